package wal

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"weedfs.dev/weed/raft"
	"weedfs.dev/weed/raft/raftpb"
)

// makeEntries returns entries lo..hi (inclusive) of term, with data that
// names index and term so a wrong entry is visible.
func makeEntries(lo, hi, term uint64) []*raftpb.Entry {
	var out []*raftpb.Entry
	for i := lo; i <= hi; i++ {
		out = append(out, &raftpb.Entry{Index: i, Term: term, Data: entryData(i, term)})
	}
	return out
}

func entryData(i, term uint64) []byte {
	return []byte(fmt.Sprintf("entry %d of term %d %s", i, term, bytes.Repeat([]byte{'x'}, int(i%7)*10)))
}

func testOptions(segmentSize int64) Options {
	return Options{SegmentSize: segmentSize, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
}

func mustOpen(t testing.TB, dir string, opts Options) *WAL {
	t.Helper()
	w, err := Open(dir, opts)
	if err != nil {
		t.Fatalf("open %s: %v", dir, err)
	}
	return w
}

func mustAppend(t testing.TB, w *WAL, ents []*raftpb.Entry) {
	t.Helper()
	if err := w.Append(ents); err != nil {
		t.Fatalf("append %d..: %v", ents[0].Index, err)
	}
}

// wantLog checks bounds and that every entry in [first, last] has the term
// given by termOf and the data makeEntries would give it.
func wantLog(t testing.TB, w *WAL, first, last uint64, termOf func(i uint64) uint64) {
	t.Helper()
	fi, err := w.FirstIndex()
	if err != nil || fi != first {
		t.Fatalf("FirstIndex = %d, %v; want %d", fi, err, first)
	}
	li, err := w.LastIndex()
	if err != nil || li != last {
		t.Fatalf("LastIndex = %d, %v; want %d", li, err, last)
	}
	if first > last {
		return
	}
	got, err := w.Entries(first, last+1, ^uint64(0))
	if err != nil {
		t.Fatalf("Entries(%d, %d): %v", first, last+1, err)
	}
	if uint64(len(got)) != last-first+1 {
		t.Fatalf("Entries(%d, %d) gave %d entries", first, last+1, len(got))
	}
	for k, e := range got {
		i := first + uint64(k)
		wantTerm := termOf(i)
		if e.Index != i || e.Term != wantTerm || !bytes.Equal(e.Data, entryData(i, wantTerm)) {
			t.Fatalf("entry %d = {index %d term %d data %q}, want term %d", i, e.Index, e.Term, e.Data, wantTerm)
		}
		if tm, err := w.Term(i); err != nil || tm != wantTerm {
			t.Fatalf("Term(%d) = %d, %v; want %d", i, tm, err, wantTerm)
		}
	}
}

func constTerm(term uint64) func(uint64) uint64 { return func(uint64) uint64 { return term } }

// segmentFiles lists the segment files of dir in name order.
func segmentFiles(t testing.TB, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "wal-*.log"))
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(m)
	return m
}

func fileSize(t testing.TB, path string) int64 {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

// copyDir copies the files of src into a new temporary directory.
func copyDir(t testing.TB, src string) string {
	t.Helper()
	dst := t.TempDir()
	ents, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

func wantCorrupt(t testing.TB, err error, file string, off int64) {
	t.Helper()
	if !errors.Is(err, raft.ErrCorrupt) {
		t.Fatalf("error %v does not wrap raft.ErrCorrupt", err)
	}
	want := fmt.Sprintf("%s at offset %d", file, off)
	if !bytes.Contains([]byte(err.Error()), []byte(want)) {
		t.Fatalf("error %q does not name %q", err, want)
	}
}
