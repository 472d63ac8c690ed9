package wal

import (
	"errors"
	"testing"

	"google.golang.org/protobuf/proto"

	"weedfs.dev/weed/raft"
	"weedfs.dev/weed/raft/raftpb"
)

func TestEmptyLog(t *testing.T) {
	w := mustOpen(t, t.TempDir(), testOptions(0))
	defer w.Close()
	wantLog(t, w, 1, 0, constTerm(0))
	if tm, err := w.Term(0); err != nil || tm != 0 {
		t.Fatalf("Term(0) = %d, %v; want 0", tm, err)
	}
	if _, err := w.Term(1); !errors.Is(err, raft.ErrUnavailable) {
		t.Fatalf("Term(1) on an empty log: %v, want ErrUnavailable", err)
	}
	hs, err := w.HardState()
	if err != nil || !proto.Equal(hs, &raftpb.HardState{}) {
		t.Fatalf("HardState of a new WAL = %v, %v; want empty", hs, err)
	}
}

func TestAppendRoundTrip(t *testing.T) {
	w := mustOpen(t, t.TempDir(), testOptions(0))
	defer w.Close()
	mustAppend(t, w, makeEntries(1, 10, 1))
	mustAppend(t, w, makeEntries(11, 100, 2))
	wantLog(t, w, 1, 100, func(i uint64) uint64 { return map[bool]uint64{true: 1, false: 2}[i <= 10] })

	if _, err := w.Entries(0, 5, 100); !errors.Is(err, raft.ErrCompacted) {
		t.Fatalf("Entries(0, 5): %v, want ErrCompacted", err)
	}
	if _, err := w.Entries(90, 102, 100); !errors.Is(err, raft.ErrUnavailable) {
		t.Fatalf("Entries(90, 102): %v, want ErrUnavailable", err)
	}
	if _, err := w.Term(101); !errors.Is(err, raft.ErrUnavailable) {
		t.Fatalf("Term(101): %v, want ErrUnavailable", err)
	}
	// maxBytes: at least one entry, then stop before going over.
	got, err := w.Entries(1, 100, 0)
	if err != nil || len(got) != 1 || got[0].Index != 1 {
		t.Fatalf("Entries with maxBytes 0 = %d entries, %v; want exactly entry 1", len(got), err)
	}
	two := uint64(len(entryData(1, 1)) + len(entryData(2, 1)))
	got, err = w.Entries(1, 100, two)
	if err != nil || len(got) != 2 {
		t.Fatalf("Entries with maxBytes of two entries = %d entries, %v; want 2", len(got), err)
	}
	got, err = w.Entries(1, 100, two-1)
	if err != nil || len(got) != 1 {
		t.Fatalf("Entries with maxBytes one short of two entries = %d entries, %v; want 1", len(got), err)
	}
}

func TestAppendRejectsGapsAndDisorder(t *testing.T) {
	w := mustOpen(t, t.TempDir(), testOptions(0))
	defer w.Close()
	mustAppend(t, w, makeEntries(1, 5, 1))
	if err := w.Append(makeEntries(7, 8, 1)); !errors.Is(err, raft.ErrUnavailable) {
		t.Fatalf("append at 7 after 5: %v, want a gap error wrapping ErrUnavailable", err)
	}
	bad := append(makeEntries(6, 6, 1), makeEntries(8, 8, 1)...)
	if err := w.Append(bad); err == nil {
		t.Fatal("append of 6 then 8 succeeded; want an error")
	}
	wantLog(t, w, 1, 5, constTerm(1))
	// The WAL still works after refusing bad input.
	mustAppend(t, w, makeEntries(6, 6, 1))
	wantLog(t, w, 1, 6, constTerm(1))
}

func TestRestartReplaysSegments(t *testing.T) {
	dir := t.TempDir()
	w := mustOpen(t, dir, testOptions(1024))
	for i := uint64(1); i <= 300; i += 10 {
		mustAppend(t, w, makeEntries(i, i+9, 3))
	}
	hs := &raftpb.HardState{Term: 3, Vote: 2, Commit: 250}
	if err := w.SaveHardState(hs); err != nil {
		t.Fatal(err)
	}
	if n := w.Stats().Segments; n < 5 {
		t.Fatalf("%d segments for 300 entries with 1 KiB segments; want several", n)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	w = mustOpen(t, dir, testOptions(1024))
	defer w.Close()
	wantLog(t, w, 1, 300, constTerm(3))
	got, err := w.HardState()
	if err != nil || !proto.Equal(got, hs) {
		t.Fatalf("HardState after restart = %v, %v; want %v", got, err, hs)
	}
	mustAppend(t, w, makeEntries(301, 310, 4))
	wantLog(t, w, 1, 310, func(i uint64) uint64 { return map[bool]uint64{true: 3, false: 4}[i <= 300] })
}

func TestEntriesReadFromDiskWhenNotCached(t *testing.T) {
	dir := t.TempDir()
	opts := testOptions(4096)
	opts.CacheBytes = 200 // a few entries only
	w := mustOpen(t, dir, opts)
	defer w.Close()
	mustAppend(t, w, makeEntries(1, 200, 5))
	if c := len(w.mem.cache); c == 0 || c > 10 {
		t.Fatalf("cache holds %d entries with a 200-byte limit", c)
	}
	wantLog(t, w, 1, 200, constTerm(5))
}

// A conflicting append replaces a suffix; after restart the replaced
// entries stay replaced, whether the conflict is in the current segment or
// in an older one, and later rolls keep the replay order.
func TestSuffixReplacementSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	opts := testOptions(1024)
	w := mustOpen(t, dir, opts)
	mustAppend(t, w, makeEntries(1, 100, 1))
	// Same-term overlap changes nothing.
	mustAppend(t, w, makeEntries(50, 60, 1))
	wantLog(t, w, 1, 100, constTerm(1))
	// A conflict at 98, inside the current segment.
	mustAppend(t, w, makeEntries(98, 99, 2))
	// A conflict at 30, segments back.
	mustAppend(t, w, makeEntries(30, 40, 3))
	termOf := func(i uint64) uint64 {
		if i < 30 {
			return 1
		}
		return 3
	}
	wantLog(t, w, 1, 40, termOf)
	// Enough to roll several times past the conflict point.
	for i := uint64(41); i <= 200; i += 20 {
		mustAppend(t, w, makeEntries(i, i+19, 3))
	}
	wantLog(t, w, 1, 200, termOf)
	w.Close()

	w = mustOpen(t, dir, opts)
	wantLog(t, w, 1, 200, termOf)
	// And once more, the replacement record being the very last one.
	mustAppend(t, w, makeEntries(150, 150, 4))
	w.Close()
	w = mustOpen(t, dir, opts)
	defer w.Close()
	wantLog(t, w, 1, 150, func(i uint64) uint64 {
		if i == 150 {
			return 4
		}
		return termOf(i)
	})
}

func TestHardStateSurvivesRestartAndCompaction(t *testing.T) {
	dir := t.TempDir()
	opts := testOptions(512)
	w := mustOpen(t, dir, opts)
	if err := w.SaveHardState(&raftpb.HardState{Term: 1, Vote: 1}); err != nil {
		t.Fatal(err)
	}
	mustAppend(t, w, makeEntries(1, 100, 1))
	want := &raftpb.HardState{Term: 2, Vote: 3, Commit: 90}
	if err := w.SaveHardState(want); err != nil {
		t.Fatal(err)
	}
	mustAppend(t, w, makeEntries(101, 200, 2))
	// Compaction deletes the segment that held the HardState record.
	if err := w.Compact(190, 2); err != nil {
		t.Fatal(err)
	}
	w.Close()
	w = mustOpen(t, dir, opts)
	defer w.Close()
	got, err := w.HardState()
	if err != nil || !proto.Equal(got, want) {
		t.Fatalf("HardState = %v, %v; want %v", got, err, want)
	}
}

func TestSaveWritesEntriesAndHardStateWithOneSync(t *testing.T) {
	dir := t.TempDir()
	w := mustOpen(t, dir, testOptions(0))
	before := w.Stats().Syncs
	hs := &raftpb.HardState{Term: 4, Vote: 1, Commit: 3}
	if err := w.Save(hs, makeEntries(1, 5, 4)); err != nil {
		t.Fatal(err)
	}
	if n := w.Stats().Syncs - before; n != 1 {
		t.Fatalf("Save made %d syncs, want 1", n)
	}
	w.Close()
	w = mustOpen(t, dir, testOptions(0))
	defer w.Close()
	wantLog(t, w, 1, 5, constTerm(4))
	if got, _ := w.HardState(); !proto.Equal(got, hs) {
		t.Fatalf("HardState = %v, want %v", got, hs)
	}
}

func TestClosedWALRefusesCalls(t *testing.T) {
	w := mustOpen(t, t.TempDir(), testOptions(0))
	mustAppend(t, w, makeEntries(1, 1, 1))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Append(makeEntries(2, 2, 1)); !errors.Is(err, ErrClosed) {
		t.Fatalf("Append after Close: %v, want ErrClosed", err)
	}
	if _, err := w.LastIndex(); !errors.Is(err, ErrClosed) {
		t.Fatalf("LastIndex after Close: %v, want ErrClosed", err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

// Damage found when reading an uncached entry is reported, not returned as
// data.
func TestEntriesReportsDamageFoundOnRead(t *testing.T) {
	dir := t.TempDir()
	opts := testOptions(0)
	opts.CacheBytes = 1
	w := mustOpen(t, dir, opts)
	defer w.Close()
	mustAppend(t, w, makeEntries(1, 20, 1))
	seg := segmentFiles(t, dir)[0]
	off := w.mem.locs[4].off // entry 5
	flipByte(t, seg, off+headerSize+2)
	_, err := w.Entries(1, 20, ^uint64(0))
	wantCorrupt(t, err, seg, off)
	if got, err := w.Entries(1, 5, ^uint64(0)); err != nil || len(got) != 4 {
		t.Fatalf("Entries before the damage: %d, %v", len(got), err)
	}
}
