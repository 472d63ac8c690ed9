package snapshots

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"weedfs.dev/weed/raft"
	"weedfs.dev/weed/raft/raftpb"
)

func testMeta(index, term uint64) *raftpb.SnapshotMeta {
	return &raftpb.SnapshotMeta{Index: index, Term: term, Conf: &raftpb.ConfState{
		Members: []*raftpb.Member{{Id: 1, Address: "127.0.0.1:1"}, {Id: 2, Address: "127.0.0.1:2", Learner: true}},
	}}
}

func testData(index uint64) []byte {
	return bytes.Repeat([]byte{byte(index), byte(index >> 8), 0x5a}, 1000+int(index))
}

func mustOpen(t *testing.T, dir string, retain int) *Store {
	t.Helper()
	s, err := Open(dir, retain)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func save(t *testing.T, s *Store, index, term uint64) {
	t.Helper()
	sink, err := s.Create(testMeta(index, term))
	if err != nil {
		t.Fatal(err)
	}
	data := testData(index)
	// Several writes, as a state machine streams its state.
	for len(data) > 0 {
		n := min(len(data), 700)
		if _, err := sink.Write(data[:n]); err != nil {
			t.Fatal(err)
		}
		data = data[n:]
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
}

func wantLatest(t *testing.T, s *Store, index, term uint64) {
	t.Helper()
	meta, r, err := s.Latest()
	if err != nil {
		t.Fatalf("Latest: %v", err)
	}
	defer r.Close()
	want := testMeta(index, term)
	want.Size = uint64(len(testData(index)))
	if !proto.Equal(meta, want) {
		t.Fatalf("Latest meta %v, want %v", meta, want)
	}
	got, err := io.ReadAll(r)
	if err != nil || !bytes.Equal(got, testData(index)) {
		t.Fatalf("Latest data: %d bytes, %v; want the %d bytes written", len(got), err, len(testData(index)))
	}
}

func folders(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}

func TestNoSnapshot(t *testing.T) {
	s := mustOpen(t, t.TempDir(), 2)
	if _, _, err := s.Latest(); !errors.Is(err, raft.ErrNoSnapshot) {
		t.Fatalf("Latest of an empty store: %v, want ErrNoSnapshot", err)
	}
	if _, err := Open(t.TempDir(), 0); err == nil {
		t.Fatal("Open with retain 0 succeeded")
	}
}

func TestRoundTripAndRestart(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, dir, 3)
	save(t, s, 100, 4)
	wantLatest(t, s, 100, 4)
	s = mustOpen(t, dir, 3)
	wantLatest(t, s, 100, 4)
}

func TestNewestWinsAndOnlyRetainAreKept(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, dir, 2)
	// Out of order on purpose: "newest" is by index then term, not by time.
	save(t, s, 10, 1)
	save(t, s, 30, 2)
	save(t, s, 20, 2)
	save(t, s, 30, 3)
	wantLatest(t, s, 30, 3)
	got := folders(t, dir)
	want := []string{folderName(id{30, 2}), folderName(id{30, 3})}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("folders %v, want %v", got, want)
	}
}

func TestSameSnapshotTwiceKeepsOne(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, dir, 2)
	save(t, s, 5, 1)
	save(t, s, 5, 1)
	if got := folders(t, dir); len(got) != 1 {
		t.Fatalf("folders %v, want one", got)
	}
	wantLatest(t, s, 5, 1)
}

func TestCancelRemovesEverything(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, dir, 2)
	save(t, s, 1, 1)
	sink, err := s.Create(testMeta(2, 1))
	if err != nil {
		t.Fatal(err)
	}
	sink.Write([]byte("partial state"))
	if err := sink.Cancel(); err != nil {
		t.Fatal(err)
	}
	if got := folders(t, dir); len(got) != 1 || got[0] != folderName(id{1, 1}) {
		t.Fatalf("folders after Cancel: %v, want only the first snapshot", got)
	}
	if _, err := sink.Write([]byte("x")); !errors.Is(err, ErrSinkDone) {
		t.Fatalf("Write after Cancel: %v, want ErrSinkDone", err)
	}
	if err := sink.Close(); !errors.Is(err, ErrSinkDone) {
		t.Fatalf("Close after Cancel: %v, want ErrSinkDone", err)
	}
	wantLatest(t, s, 1, 1)
	// Cancel after a successful Close leaves the snapshot alone.
	sink, _ = s.Create(testMeta(3, 1))
	sink.Write(testData(3))
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	if err := sink.Cancel(); err != nil {
		t.Fatal(err)
	}
	wantLatest(t, s, 3, 1)
}

// A snapshot still being written (or abandoned by a crash) is invisible, and
// the next Open deletes it.
func TestIncompleteSnapshotIgnoredThenDeleted(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, dir, 2)
	save(t, s, 7, 2)
	sink, err := s.Create(testMeta(9, 2))
	if err != nil {
		t.Fatal(err)
	}
	sink.Write(testData(9)) // never closed: the process "crashes" here
	wantLatest(t, s, 7, 2)
	if got := folders(t, dir); len(got) != 2 {
		t.Fatalf("folders while writing: %v, want the snapshot and a temporary one", got)
	}
	s = mustOpen(t, dir, 2)
	if got := folders(t, dir); len(got) != 1 || got[0] != folderName(id{7, 2}) {
		t.Fatalf("folders after reopen: %v, want only the complete snapshot", got)
	}
	wantLatest(t, s, 7, 2)
}

func TestCorruptionIsReportedWithFileName(t *testing.T) {
	setup := func(t *testing.T) (*Store, string) {
		dir := t.TempDir()
		s := mustOpen(t, dir, 2)
		save(t, s, 12, 3)
		return s, filepath.Join(dir, folderName(id{12, 3}))
	}
	wantCorrupt := func(t *testing.T, s *Store, file string) {
		t.Helper()
		_, r, err := s.Latest()
		if r != nil {
			r.Close()
		}
		if !errors.Is(err, raft.ErrCorrupt) || !strings.Contains(err.Error(), file) {
			t.Fatalf("Latest: %v; want ErrCorrupt naming %s", err, file)
		}
	}
	edit := func(t *testing.T, path string, f func([]byte) []byte) {
		t.Helper()
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, f(b), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("flipped data byte", func(t *testing.T) {
		s, folder := setup(t)
		data := filepath.Join(folder, dataFile)
		edit(t, data, func(b []byte) []byte { b[len(b)/2] ^= 1; return b })
		wantCorrupt(t, s, data)
	})
	t.Run("truncated data", func(t *testing.T) {
		s, folder := setup(t)
		data := filepath.Join(folder, dataFile)
		edit(t, data, func(b []byte) []byte { return b[:len(b)-1] })
		wantCorrupt(t, s, data)
	})
	t.Run("flipped meta byte", func(t *testing.T) {
		s, folder := setup(t)
		meta := filepath.Join(folder, metaFileName)
		for off := 0; ; off++ {
			b, _ := os.ReadFile(meta)
			if off == len(b) {
				break
			}
			edit(t, meta, func(b []byte) []byte { b[off] ^= 0x10; return b })
			wantCorrupt(t, s, meta)
			edit(t, meta, func(b []byte) []byte { b[off] ^= 0x10; return b })
		}
		wantLatest(t, s, 12, 3)
	})
	t.Run("missing meta", func(t *testing.T) {
		s, folder := setup(t)
		meta := filepath.Join(folder, metaFileName)
		os.Remove(meta)
		wantCorrupt(t, s, meta)
	})
	t.Run("meta of another snapshot", func(t *testing.T) {
		s, folder := setup(t)
		other := folder[:len(folder)-1] + "4" // term 4 in the folder name
		if err := os.Rename(folder, other); err != nil {
			t.Fatal(err)
		}
		wantCorrupt(t, s, filepath.Join(other, metaFileName))
	})
}

// FuzzSnapshotMeta: the meta decoder never panics and what it accepts
// re-encodes to a file that decodes to the same meta.
func FuzzSnapshotMeta(f *testing.F) {
	for _, m := range []metaFile{
		{meta: testMeta(5, 2), dataCRC: 0xdeadbeef},
		{meta: &raftpb.SnapshotMeta{}},
		{meta: &raftpb.SnapshotMeta{Index: 1 << 60, Term: 9, Size: 1 << 40}},
	} {
		b, err := encodeMeta(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(b[:len(b)-1])
	}
	f.Add([]byte("WSNP"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decodeMeta(b)
		if err != nil {
			if !errors.Is(err, raft.ErrCorrupt) {
				t.Fatalf("error without ErrCorrupt: %v", err)
			}
			return
		}
		again, err := encodeMeta(m)
		if err != nil {
			t.Fatal(err)
		}
		m2, err := decodeMeta(again)
		if err != nil || !proto.Equal(m.meta, m2.meta) || m.dataCRC != m2.dataCRC {
			t.Fatalf("re-encoded meta decodes to %v, %v; want %v", m2, err, m)
		}
	})
}
