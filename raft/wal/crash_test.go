package wal

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"google.golang.org/protobuf/proto"

	"weedfs.dev/weed/raft/raftpb"
)

// Cutting the last segment at every byte inside its last record (a write
// interrupted by a crash) loses exactly that record; the WAL opens, and keeps
// working and restarting afterwards.
func TestTornTailAtEveryByteOfLastRecord(t *testing.T) {
	dir := t.TempDir()
	w := mustOpen(t, dir, testOptions(2048))
	for i := uint64(1); i <= 40; i++ {
		mustAppend(t, w, makeEntries(i, i, 1))
	}
	files := segmentFiles(t, dir)
	lastFile := files[len(files)-1]
	start := fileSize(t, lastFile)
	mustAppend(t, w, makeEntries(41, 41, 1))
	end := fileSize(t, lastFile)
	w.Close()
	if end <= start {
		t.Fatalf("the last append did not grow %s", lastFile)
	}
	for cut := start; cut < end; cut++ {
		crashed := copyDir(t, dir)
		seg := filepath.Join(crashed, filepath.Base(lastFile))
		if err := os.Truncate(seg, cut); err != nil {
			t.Fatal(err)
		}
		var logged bytes.Buffer
		opts := testOptions(2048)
		opts.Logger = slog.New(slog.NewTextHandler(&logged, nil))
		w, err := Open(crashed, opts)
		if err != nil {
			t.Fatalf("open after a cut at %d of [%d, %d): %v", cut, start, end, err)
		}
		// A cut at start leaves no partial record: nothing to report.
		if cut > start && (!bytes.Contains(logged.Bytes(), []byte("torn tail")) || !bytes.Contains(logged.Bytes(), []byte(seg))) {
			t.Fatalf("cut at %d: no log line naming the torn tail of %s: %q", cut, seg, logged.String())
		}
		wantLog(t, w, 1, 40, constTerm(1))
		if got := fileSize(t, seg); got != start {
			t.Fatalf("cut at %d: segment is %d bytes after open, want it cut back to %d", cut, got, start)
		}
		mustAppend(t, w, makeEntries(41, 42, 2))
		w.Close()
		w = mustOpen(t, crashed, testOptions(2048))
		wantLog(t, w, 1, 42, func(i uint64) uint64 { return map[bool]uint64{true: 1, false: 2}[i <= 40] })
		w.Close()
	}
}

// A last record with a bad checksum, or a tail of zeros, is a torn write.
func TestTornTailChecksumAndZeros(t *testing.T) {
	dir := t.TempDir()
	w := mustOpen(t, dir, testOptions(0))
	mustAppend(t, w, makeEntries(1, 9, 1))
	files := segmentFiles(t, dir)
	seg := files[len(files)-1]
	start := fileSize(t, seg)
	mustAppend(t, w, makeEntries(10, 10, 1))
	end := fileSize(t, seg)
	w.Close()

	t.Run("bad checksum in last record", func(t *testing.T) {
		for off := start + 4; off < end; off++ { // every byte after the length field
			crashed := copyDir(t, dir)
			flipByte(t, filepath.Join(crashed, filepath.Base(seg)), off)
			w, err := Open(crashed, testOptions(0))
			if err != nil {
				t.Fatalf("flip at %d: %v", off, err)
			}
			wantLog(t, w, 1, 9, constTerm(1))
			w.Close()
		}
	})
	t.Run("zero tail", func(t *testing.T) {
		crashed := copyDir(t, dir)
		f, err := os.OpenFile(filepath.Join(crashed, filepath.Base(seg)), os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			t.Fatal(err)
		}
		f.Write(make([]byte, 100))
		f.Close()
		w, err := Open(crashed, testOptions(0))
		if err != nil {
			t.Fatal(err)
		}
		wantLog(t, w, 1, 10, constTerm(1))
		w.Close()
	})
}

// A torn HardState record leaves the previous HardState: term and vote are
// never lost nor half written.
func TestTornHardStateKeepsPrevious(t *testing.T) {
	dir := t.TempDir()
	w := mustOpen(t, dir, testOptions(0))
	old := &raftpb.HardState{Term: 5, Vote: 2, Commit: 1}
	if err := w.SaveHardState(old); err != nil {
		t.Fatal(err)
	}
	seg := segmentFiles(t, dir)[0]
	start := fileSize(t, seg)
	newer := &raftpb.HardState{Term: 6, Vote: 3, Commit: 1}
	if err := w.SaveHardState(newer); err != nil {
		t.Fatal(err)
	}
	end := fileSize(t, seg)
	w.Close()
	for cut := start; cut <= end; cut++ {
		crashed := copyDir(t, dir)
		if err := os.Truncate(filepath.Join(crashed, filepath.Base(seg)), cut); err != nil {
			t.Fatal(err)
		}
		w := mustOpen(t, crashed, testOptions(0))
		got, _ := w.HardState()
		want := old
		if cut == end {
			want = newer
		}
		if !proto.Equal(got, want) {
			t.Fatalf("cut at %d: HardState %v, want %v", cut, got, want)
		}
		w.Close()
	}
}

func flipByte(t testing.TB, path string, off int64) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[off] ^= 0x5a
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// recordOffsets lists the record offsets of a segment file.
func recordOffsets(t testing.TB, path string) []int64 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var offs []int64
	for off := 0; off < len(b); {
		_, _, n, err := decodeRecord(b[off:])
		if err != nil {
			t.Fatalf("%s at %d: %v", path, off, err)
		}
		offs = append(offs, int64(off))
		off += n
	}
	return offs
}

// Damage before the end of the log is an error naming file and offset, never
// a silent truncation.
func TestCorruptionIsReportedWithFileAndOffset(t *testing.T) {
	dir := t.TempDir()
	w := mustOpen(t, dir, testOptions(1024))
	for i := uint64(1); i <= 100; i += 5 {
		mustAppend(t, w, makeEntries(i, i+4, 1))
	}
	w.Close()
	files := segmentFiles(t, dir)
	if len(files) < 3 {
		t.Fatalf("want at least 3 segments, have %d", len(files))
	}

	t.Run("middle of the last segment", func(t *testing.T) {
		crashed := copyDir(t, dir)
		seg := filepath.Join(crashed, filepath.Base(files[len(files)-1]))
		offs := recordOffsets(t, seg)
		if len(offs) < 3 {
			t.Fatalf("last segment has %d records", len(offs))
		}
		off := offs[len(offs)-2] // not the last record
		flipByte(t, seg, off+headerSize+1)
		before := fileSize(t, seg)
		_, err := Open(crashed, testOptions(1024))
		wantCorrupt(t, err, seg, off)
		if fileSize(t, seg) != before {
			t.Fatal("a failed open changed the segment")
		}
	})
	t.Run("length field reaching past the end", func(t *testing.T) {
		crashed := copyDir(t, dir)
		seg := filepath.Join(crashed, filepath.Base(files[len(files)-1]))
		offs := recordOffsets(t, seg)
		off := offs[len(offs)-3]
		b, _ := os.ReadFile(seg)
		b[off+2] = 0x7f // a length of megabytes: the record seems cut by the end
		os.WriteFile(seg, b, 0o644)
		_, err := Open(crashed, testOptions(1024))
		wantCorrupt(t, err, seg, off)
	})
	t.Run("last record of an older segment", func(t *testing.T) {
		crashed := copyDir(t, dir)
		seg := filepath.Join(crashed, filepath.Base(files[1]))
		offs := recordOffsets(t, seg)
		off := offs[len(offs)-1]
		flipByte(t, seg, off+headerSize+1)
		_, err := Open(crashed, testOptions(1024))
		wantCorrupt(t, err, seg, off)
	})
	t.Run("older segment cut short", func(t *testing.T) {
		crashed := copyDir(t, dir)
		seg := filepath.Join(crashed, filepath.Base(files[0]))
		offs := recordOffsets(t, seg)
		off := offs[len(offs)-1]
		if err := os.Truncate(seg, off+3); err != nil {
			t.Fatal(err)
		}
		_, err := Open(crashed, testOptions(1024))
		wantCorrupt(t, err, seg, off)
	})
	t.Run("missing middle segment", func(t *testing.T) {
		crashed := copyDir(t, dir)
		os.Remove(filepath.Join(crashed, filepath.Base(files[1])))
		next := filepath.Join(crashed, filepath.Base(files[2]))
		// The gap shows at the first entry record of the next segment.
		var first int64 = -1
		b, _ := os.ReadFile(next)
		for _, off := range recordOffsets(t, next) {
			if typ, _, _, _ := decodeRecord(b[off:]); typ == recordEntry {
				first = off
				break
			}
		}
		_, err := Open(crashed, testOptions(1024))
		wantCorrupt(t, err, next, first)
	})
	t.Run("missing first segment", func(t *testing.T) {
		crashed := copyDir(t, dir)
		os.Remove(filepath.Join(crashed, filepath.Base(files[0])))
		_, err := Open(crashed, testOptions(1024))
		wantCorrupt(t, err, filepath.Join(crashed, filepath.Base(files[1])), 0)
		if !bytes.Contains([]byte(err.Error()), []byte("missing")) {
			t.Fatalf("error %q does not say entries are missing", err)
		}
	})
	t.Run("valid checksum, bad entry", func(t *testing.T) {
		crashed := copyDir(t, dir)
		seg := filepath.Join(crashed, filepath.Base(files[0]))
		offs := recordOffsets(t, seg)
		b, _ := os.ReadFile(seg)
		// Replace the second record's payload with bytes that are not an
		// Entry, framed with a correct checksum.
		off := offs[1]
		_, payload, n, _ := decodeRecord(b[off:])
		junk := bytes.Repeat([]byte{0xff}, len(payload))
		rec := appendRecord(nil, recordEntry, junk)
		copy(b[off:off+int64(n)], rec)
		os.WriteFile(seg, b, 0o644)
		_, err := Open(crashed, testOptions(1024))
		wantCorrupt(t, err, seg, off)
	})
}
