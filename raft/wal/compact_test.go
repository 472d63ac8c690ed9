package wal

import (
	"errors"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"weedfs.dev/weed/raft"
)

func TestCompactAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	opts := testOptions(1024)
	w := mustOpen(t, dir, opts)
	for i := uint64(1); i <= 200; i += 10 {
		mustAppend(t, w, makeEntries(i, i+9, 2))
	}
	segsBefore := len(segmentFiles(t, dir))
	if err := w.Compact(150, 3); err == nil {
		t.Fatal("Compact with the wrong term succeeded")
	}
	if err := w.Compact(250, 2); !errors.Is(err, raft.ErrUnavailable) {
		t.Fatalf("Compact past the last entry: %v, want ErrUnavailable", err)
	}
	if err := w.Compact(150, 2); err != nil {
		t.Fatal(err)
	}
	check := func(w *WAL) {
		t.Helper()
		wantLog(t, w, 151, 200, constTerm(2))
		if tm, err := w.Term(150); err != nil || tm != 2 {
			t.Fatalf("Term(150) at the compaction point = %d, %v; want 2", tm, err)
		}
		if _, err := w.Term(149); !errors.Is(err, raft.ErrCompacted) {
			t.Fatalf("Term(149): %v, want ErrCompacted", err)
		}
		if _, err := w.Entries(150, 160, 1<<20); !errors.Is(err, raft.ErrCompacted) {
			t.Fatalf("Entries(150, ...): %v, want ErrCompacted", err)
		}
	}
	check(w)
	segsAfter := len(segmentFiles(t, dir))
	if segsAfter >= segsBefore {
		t.Fatalf("compaction left %d of %d segments", segsAfter, segsBefore)
	}
	// No remaining segment is entirely below the compaction point.
	if n := w.Stats().Segments; n != segsAfter {
		t.Fatalf("Stats says %d segments, directory holds %d", n, segsAfter)
	}
	// Compacting again at or below the point is a no-op.
	if err := w.Compact(100, 2); err != nil {
		t.Fatal(err)
	}
	w.Close()

	w = mustOpen(t, dir, opts)
	check(w)
	// Compact everything, then keep appending and rolling, and restart.
	if err := w.Compact(200, 2); err != nil {
		t.Fatal(err)
	}
	wantLog(t, w, 201, 200, constTerm(2))
	for i := uint64(201); i <= 400; i += 10 {
		mustAppend(t, w, makeEntries(i, i+9, 3))
	}
	if err := w.Compact(350, 3); err != nil {
		t.Fatal(err)
	}
	w.Close()
	w = mustOpen(t, dir, opts)
	defer w.Close()
	wantLog(t, w, 351, 400, constTerm(3))
	if tm, err := w.Term(350); err != nil || tm != 3 {
		t.Fatalf("Term(350) = %d, %v; want 3", tm, err)
	}
}

func TestResetAcrossRestart(t *testing.T) {
	for _, tc := range []struct {
		name  string
		index uint64
	}{
		{"ahead of the log", 500},
		{"inside the log", 120},
		{"below the current segment", 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			opts := testOptions(1024)
			w := mustOpen(t, dir, opts)
			for i := uint64(1); i <= 200; i += 10 {
				mustAppend(t, w, makeEntries(i, i+9, 2))
			}
			if err := w.Reset(tc.index, 9); err != nil {
				t.Fatal(err)
			}
			wantLog(t, w, tc.index+1, tc.index, constTerm(9))
			if tm, err := w.Term(tc.index); err != nil || tm != 9 {
				t.Fatalf("Term(%d) = %d, %v; want 9", tc.index, tm, err)
			}
			if n := len(segmentFiles(t, dir)); n != 1 {
				t.Fatalf("%d segments after Reset, want 1", n)
			}
			w.Close()
			w = mustOpen(t, dir, opts)
			wantLog(t, w, tc.index+1, tc.index, constTerm(9))
			// Append enough to roll segments after the reset.
			for i := tc.index + 1; i <= tc.index+100; i += 10 {
				mustAppend(t, w, makeEntries(i, i+9, 10))
			}
			w.Close()
			w = mustOpen(t, dir, opts)
			defer w.Close()
			wantLog(t, w, tc.index+1, tc.index+100, constTerm(10))
			if tm, _ := w.Term(tc.index); tm != 9 {
				t.Fatalf("Term(%d) after restart = %d, want 9", tc.index, tm)
			}
		})
	}
}

// saveFiles keeps the bytes of the segments of dir, to put back later as if
// their deletion had not happened before a crash.
func saveFiles(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	m := map[string][]byte{}
	for _, p := range segmentFiles(t, dir) {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		m[filepath.Base(p)] = b
	}
	return m
}

// restoreDeleted copies dir and puts back the newest `keep` of the segments
// in saved that dir no longer has: a crash while deleting oldest first.
func restoreDeleted(t *testing.T, dir string, saved map[string][]byte, keep int) string {
	t.Helper()
	crashed := copyDir(t, dir)
	var gone []string
	for name := range saved {
		if _, err := os.Stat(filepath.Join(dir, name)); os.IsNotExist(err) {
			gone = append(gone, name)
		}
	}
	sort.Strings(gone)
	for _, name := range gone[len(gone)-keep:] {
		if err := os.WriteFile(filepath.Join(crashed, name), saved[name], 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return crashed
}

// A crash after the compaction or reset record but before every old segment
// is deleted replays to the same log.
func TestCrashWhileDeletingSegments(t *testing.T) {
	setup := func(t *testing.T) (string, *WAL) {
		dir := t.TempDir()
		w := mustOpen(t, dir, testOptions(1024))
		for i := uint64(1); i <= 200; i += 10 {
			mustAppend(t, w, makeEntries(i, i+9, 2))
		}
		// A conflict segments back leaves replaced entries in old segments.
		mustAppend(t, w, makeEntries(150, 170, 3))
		return dir, w
	}
	termOf := func(i uint64) uint64 { return map[bool]uint64{true: 2, false: 3}[i < 150] }

	t.Run("compact", func(t *testing.T) {
		dir, w := setup(t)
		saved := saveFiles(t, dir)
		if err := w.Compact(140, 2); err != nil {
			t.Fatal(err)
		}
		w.Close()
		deleted := len(saved) - len(segmentFiles(t, dir))
		if deleted < 2 {
			t.Fatalf("compaction deleted %d segments; the test needs several", deleted)
		}
		for keep := 0; keep <= deleted; keep++ {
			crashed := restoreDeleted(t, dir, saved, keep)
			w := mustOpen(t, crashed, testOptions(1024))
			wantLog(t, w, 141, 170, termOf)
			w.Close()
		}
	})
	t.Run("reset", func(t *testing.T) {
		dir, w := setup(t)
		saved := saveFiles(t, dir)
		if err := w.Reset(60, 7); err != nil {
			t.Fatal(err)
		}
		w.Close()
		deleted := len(saved) - len(segmentFiles(t, dir))
		for keep := 0; keep <= deleted; keep++ {
			crashed := restoreDeleted(t, dir, saved, keep)
			w := mustOpen(t, crashed, testOptions(1024))
			wantLog(t, w, 61, 60, constTerm(7))
			w.Close()
		}
	})
}
