package storage

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"weedfs.dev/weed/storage/idx"
	"weedfs.dev/weed/storage/vfs"
)

// rebuildWorkload writes needles, empty ones, an empty needle written over
// a live one, overwrites and deletes (of an empty needle too), closes the
// volume and returns the expected final state.
func rebuildWorkload(t *testing.T, dir string) (map[uint64]keyState, []uint64) {
	t.Helper()
	ops := []crashOp{
		{key: 1, cookie: 11, size: 100, seed: 1},
		{key: 2, cookie: 22, size: 0, seed: 2},
		{key: 3, cookie: 33, size: 5000, seed: 3},
		{key: 4, cookie: 44, size: 0, seed: 4},
		{key: 1, cookie: 11, size: 0, seed: 5},  // empty over live data
		{key: 3, cookie: 33, size: 10, seed: 6}, // overwrite
		{key: 2, cookie: 22, del: true},         // delete of an empty needle
		{key: 5, cookie: 55, size: 77, seed: 7}, // written then deleted
		{key: 5, cookie: 55, del: true},
		{key: 5, cookie: 56, size: 0, seed: 8},   // empty over a deleted key
		{key: 6, cookie: 66, size: 300, seed: 9}, // deleted...
		{key: 6, cookie: 66, del: true},
		{key: 6, cookie: 67, size: 30, seed: 10}, // ...and written again
	}
	v := mustCreate(t, vfs.Default(), dir, VolumeOptions{})
	if n, _, err := runCrashWorkload(v, ops); err != nil {
		t.Fatalf("workload failed at op %d: %v", n, err)
	}
	if err := v.Close(); err != nil {
		t.Fatal(err)
	}
	states := applyModel(ops)
	return states[len(ops)], []uint64{1, 2, 3, 4, 5, 6, 7}
}

func TestRecoverRebuildsMissingIndex(t *testing.T) {
	dir := t.TempDir()
	want, keys := rebuildWorkload(t, dir)
	idxName := filepath.Join(dir, "c_1.idx")
	orig, err := os.ReadFile(idxName)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(idxName); err != nil {
		t.Fatal(err)
	}
	v := mustOpen(t, vfs.Default(), dir, VolumeOptions{})
	if err := volumeMatches(v, want, keys); err != nil {
		t.Fatalf("after rebuild: %v", err)
	}
	v.Close()
	rebuilt, err := os.ReadFile(idxName)
	if err != nil {
		t.Fatal(err)
	}
	if string(rebuilt) != string(orig) {
		t.Fatalf("rebuilt .idx (%d bytes) differs from the one written (%d bytes)", len(rebuilt), len(orig))
	}
}

func TestRecoverReindexesRecordsPastIndex(t *testing.T) {
	for _, drop := range []int{1, 2, 5, 13} {
		dir := t.TempDir()
		want, keys := rebuildWorkload(t, dir)
		idxName := filepath.Join(dir, "c_1.idx")
		st, err := os.Stat(idxName)
		if err != nil {
			t.Fatal(err)
		}
		// Drop whole entries, and tear the one before them.
		cut := st.Size() - int64(drop)*idx.EntrySize - 5
		if err := os.Truncate(idxName, max(cut, 0)); err != nil {
			t.Fatal(err)
		}
		v := mustOpen(t, vfs.Default(), dir, VolumeOptions{})
		if err := volumeMatches(v, want, keys); err != nil {
			t.Fatalf("%d entries dropped: %v", drop, err)
		}
		v.Close()
		after, _ := os.Stat(idxName)
		if after.Size() != st.Size() {
			t.Fatalf("%d entries dropped: .idx is %d bytes after recovery, want %d", drop, after.Size(), st.Size())
		}
	}
}

func TestRecoverDropsIndexEntriesPastData(t *testing.T) {
	dir := t.TempDir()
	fs := vfs.Default()
	v := mustCreate(t, fs, dir, VolumeOptions{})
	for k := uint64(1); k <= 5; k++ {
		mustWrite(t, v, newTestNeedle(k, 1, 1000, k), WriteOptions{})
	}
	v.Close()
	// Cut .dat in the middle of needle 5: its entry points past the end.
	datName := filepath.Join(dir, "c_1.dat")
	st, _ := os.Stat(datName)
	if err := os.Truncate(datName, st.Size()-500); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	v = mustOpen(t, fs, dir, VolumeOptions{Logger: slog.New(slog.NewTextHandler(&log, nil))})
	defer v.Close()
	for _, want := range []string{"dropping index entries", "cutting a torn or corrupt data file tail"} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("recovery log lacks %q:\n%s", want, log.String())
		}
	}
	for k := uint64(1); k <= 4; k++ {
		checkRead(t, v, k, 1, testData(1000, k))
	}
	_, err := v.Read(context.Background(), 5, 1, ReadOptions{})
	wantErr(t, err, ErrNotFound, "needle whose record was cut")
	if info := v.Info(); info.Size%8 != 0 || info.Size >= st.Size()-500 {
		t.Fatalf("data file not cut back to the last whole record: %d", info.Size)
	}
	mustWrite(t, v, newTestNeedle(5, 2, 10, 50), WriteOptions{})
	checkRead(t, v, 5, 2, testData(10, 50))
}
