package storage

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"weedfs.dev/weed/storage/needle"
	"weedfs.dev/weed/storage/vfs"
)

// compactSetup are the operations before a compaction: 30 needles, 10 of
// them deleted, 5 overwritten.
func compactSetup() []crashOp {
	var ops []crashOp
	for k := uint64(1); k <= 30; k++ {
		ops = append(ops, crashOp{key: k, cookie: uint32(k), size: int(k * 53 % 700), seed: k, fsync: k%10 == 0})
	}
	for k := uint64(1); k <= 30; k += 3 {
		ops = append(ops, crashOp{key: k, cookie: uint32(k), del: true})
	}
	for k := uint64(2); k <= 10; k += 2 {
		ops = append(ops, crashOp{key: k, cookie: uint32(k), size: 40, seed: 100 + k})
	}
	ops[len(ops)-1].fsync = true
	return ops
}

// compactDuring are the operations between Compact and CommitCompact: a new
// needle, a delete and an overwrite of copied ones, a rewrite of a key
// deleted before.
func compactDuring() []crashOp {
	return []crashOp{
		{key: 31, cookie: 31, size: 222, seed: 31, fsync: true},
		{key: 2, cookie: 2, del: true, fsync: true},
		{key: 3, cookie: 3, size: 99, seed: 203, fsync: true},
		{key: 4, cookie: 4, size: 12, seed: 204, fsync: true},
		{key: 7, cookie: 77, size: 15, seed: 207, fsync: true},
	}
}

// compactMatches is volumeMatches for a volume that may have been
// compacted: a deleted key may then be gone altogether.
func compactMatches(v *Volume, want map[uint64]keyState, keys []uint64) error {
	compacted := v.Info().CompactionRevision > 0
	for _, k := range keys {
		s := want[k]
		if s.present && s.deleted && compacted {
			_, err := v.Read(context.Background(), k, s.cookie, ReadOptions{})
			if !errors.Is(err, ErrDeleted) && !errors.Is(err, ErrNotFound) {
				return fmt.Errorf("key %d: want deleted or gone, got %v", k, err)
			}
			continue
		}
		if err := volumeMatches(v, want, []uint64{k}); err != nil {
			return err
		}
	}
	return nil
}

func allKeys(n uint64) []uint64 {
	keys := make([]uint64, 0, n)
	for k := uint64(1); k <= n; k++ {
		keys = append(keys, k)
	}
	return keys
}

func TestCompact(t *testing.T) {
	dir := t.TempDir()
	fs := vfs.Default()
	v := mustCreate(t, fs, dir, VolumeOptions{})
	setup, during := compactSetup(), compactDuring()
	if n, _, err := runCrashWorkload(v, setup); err != nil {
		t.Fatalf("setup failed at %d: %v", n, err)
	}
	before := v.Info()
	if before.GarbageRatio <= 0 {
		t.Fatalf("garbage ratio %v before compaction", before.GarbageRatio)
	}
	if err := v.CommitCompact(context.Background()); !errors.Is(err, ErrNoCompaction) {
		t.Fatalf("commit without compact: %v", err)
	}
	if err := v.Compact(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, ext := range []string{extCompacted, extCompactIx} {
		if _, err := os.Stat(filepath.Join(dir, "c_1"+ext)); err != nil {
			t.Fatalf("after Compact: %v", err)
		}
	}
	if n, _, err := runCrashWorkload(v, during); err != nil {
		t.Fatalf("writes during compaction failed at %d: %v", n, err)
	}
	if err := v.CommitCompact(context.Background()); err != nil {
		t.Fatal(err)
	}
	states := applyModel(append(append([]crashOp(nil), setup...), during...))
	want := states[len(states)-1]
	if err := compactMatches(v, copyState(want), allKeys(32)); err != nil {
		t.Fatalf("after commit: %v", err)
	}
	after := v.Info()
	if after.CompactionRevision != 1 || after.Size >= before.Size || after.DeletedByteCount >= before.DeletedByteCount {
		t.Fatalf("compaction did not shrink the volume:\nbefore %+v\nafter  %+v", before, after)
	}
	// A key deleted before the compaction is gone; one deleted during it is
	// a tombstone.
	_, err := v.Read(context.Background(), 1, 1, ReadOptions{ReadDeleted: true})
	wantErr(t, err, ErrNotFound, "needle deleted before compaction")
	if _, err := v.Read(context.Background(), 2, 2, ReadOptions{ReadDeleted: true}); err != nil {
		t.Fatalf("needle deleted during compaction, readDeleted: %v", err)
	}
	for _, ext := range []string{extCompacted, extCompactIx, extCommit} {
		if _, err := os.Stat(filepath.Join(dir, "c_1"+ext)); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("%s left after commit: %v", ext, err)
		}
	}
	// Writes go on, and everything survives a reopen.
	mustWrite(t, v, newTestNeedle(40, 4, 100, 40), WriteOptions{})
	v.Close()
	v = mustOpen(t, fs, dir, VolumeOptions{})
	defer v.Close()
	if v.Info().CompactionRevision != 1 {
		t.Fatal("revision lost on reopen")
	}
	checkRead(t, v, 40, 4, testData(100, 40))
	if err := compactMatches(v, copyState(want), allKeys(32)); err != nil {
		t.Fatalf("after reopen: %v", err)
	}

	// CleanupCompact drops a compaction that is not committed.
	if err := v.Compact(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := v.CleanupCompact(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "c_1"+extCompacted)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf(".cpd left after cleanup: %v", err)
	}
	if err := v.CommitCompact(context.Background()); !errors.Is(err, ErrNoCompaction) {
		t.Fatalf("commit after cleanup: %v", err)
	}
}

func copyState(m map[uint64]keyState) map[uint64]keyState {
	out := make(map[uint64]keyState, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// gatedFS holds the first write to a .cpd file until release is closed, so
// a test can make other work happen while a compaction is copying.
type gatedFS struct {
	vfs.FS
	release chan struct{}
	once    *sync.Once
}

func (g gatedFS) OpenFile(name string, flag int, perm os.FileMode) (vfs.File, error) {
	f, err := g.FS.OpenFile(name, flag, perm)
	if err != nil || filepath.Ext(name) != extCompacted {
		return f, err
	}
	return gatedFile{File: f, g: g}, nil
}

type gatedFile struct {
	vfs.File
	g gatedFS
}

func (f gatedFile) WriteAt(b []byte, off int64) (int, error) {
	f.g.once.Do(func() { <-f.g.release })
	return f.File.WriteAt(b, off)
}

// TestCompactWithConcurrentReadersAndWriter runs readers and a writer
// (writes and deletes) through Compact and CommitCompact: the compaction is
// held mid-copy until the writer has done 200 operations, readers never see
// an error or wrong bytes, and after the commit every acknowledged write
// reads back and every acknowledged delete stays deleted.
func TestCompactWithConcurrentReadersAndWriter(t *testing.T) {
	dir := t.TempDir()
	g := gatedFS{FS: vfs.Default(), release: make(chan struct{}), once: new(sync.Once)}
	v := mustCreate(t, g, dir, VolumeOptions{})
	defer v.Close()
	const stable = 200
	for k := uint64(1); k <= stable; k++ {
		mustWrite(t, v, newTestNeedle(k, 9, int(k*13%900), k), WriteOptions{})
	}
	for k := uint64(stable + 1); k <= stable+100; k++ {
		mustWrite(t, v, newTestNeedle(k, 9, 500, k), WriteOptions{})
		if _, err := v.Delete(context.Background(), k, 9, DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
	}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var failure atomic.Value
	var reads atomic.Int64
	for r := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(r), 7))
			for i := 0; i < 10_000_000; i++ {
				select {
				case <-stop:
					return
				default:
				}
				k := uint64(rng.IntN(stable) + 1)
				n, err := v.Read(context.Background(), k, 9, ReadOptions{})
				if err == nil && string(n.Data) != string(testData(int(k*13%900), k)) {
					err = fmt.Errorf("key %d: wrong bytes", k)
				}
				if err != nil {
					failure.Store(err)
					return
				}
				reads.Add(1)
			}
		}()
	}
	var (
		mu      sync.Mutex
		live    []uint64
		deleted []uint64
	)
	var releaseOnce sync.Once
	release := func() { releaseOnce.Do(func() { close(g.release) }) }
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer release() // never leave the compaction waiting
		for k := uint64(1000); k < 1_000_000; k++ {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := v.Write(context.Background(), newTestNeedle(k, 3, 64, k), WriteOptions{}); err != nil {
				failure.Store(fmt.Errorf("write %d: %w", k, err))
				return
			}
			if k%4 == 0 {
				if _, err := v.Delete(context.Background(), k, 3, DeleteOptions{}); err != nil {
					failure.Store(fmt.Errorf("delete %d: %w", k, err))
					return
				}
			}
			mu.Lock()
			if k%4 == 0 {
				deleted = append(deleted, k)
			} else {
				live = append(live, k)
			}
			if len(live)+len(deleted) == 200 {
				release() // let the compaction go on
			}
			mu.Unlock()
		}
	}()
	if err := v.Compact(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := v.CommitCompact(context.Background()); err != nil {
		t.Fatal(err)
	}
	close(stop)
	wg.Wait()
	if err, _ := failure.Load().(error); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if v.Info().CompactionRevision != 1 || len(live)+len(deleted) < 200 {
		t.Fatalf("revision %d after %d writer operations", v.Info().CompactionRevision, len(live)+len(deleted))
	}
	for _, k := range live {
		checkRead(t, v, k, 3, testData(64, k))
	}
	for _, k := range deleted {
		if _, err := v.Read(context.Background(), k, 3, ReadOptions{}); !errors.Is(err, ErrDeleted) && !errors.Is(err, ErrNotFound) {
			t.Fatalf("key %d deleted during compaction reads as %v", k, err)
		}
	}
	for k := uint64(1); k <= stable; k++ {
		checkRead(t, v, k, 9, testData(int(k*13%900), k))
	}
	t.Logf("%d reads, %d writes and %d deletes ran during compaction", reads.Load(), len(live)+len(deleted), len(deleted))
}

// TestCompactCrash cuts the power before every file operation of a
// compaction, of the writes made during it and of its commit, in both
// modes: the volume reopens as the old or the new volume, whole, holding
// every write acknowledged before the crash.
func TestCompactCrash(t *testing.T) {
	compactCrashCase(t, compactSetup(), compactDuring(), allKeys(32))
	// Random workloads too: -crash.seeds=N runs N-1 of them.
	for seed := uint64(2); seed <= uint64(*crashSeeds); seed++ {
		ops := crashWorkload(seed+1000, 45)
		ops[29].fsync = true
		compactCrashCase(t, ops[:30], ops[30:], allKeys(11))
	}
}

// compactCrashCase runs setup, Compact, during and CommitCompact, cutting
// the power before every file operation after setup.
func compactCrashCase(t *testing.T, setup, during []crashOp, keys []uint64) {
	all := append(append([]crashOp(nil), setup...), during...)
	states := applyModel(all)

	run := func(cfs *vfs.CrashFS) (attempted, durable int, committed bool) {
		v, err := CreateVolume(cfs, "/", "c", 1, VolumeOptions{})
		if err != nil {
			t.Fatalf("create: %v", err)
		}
		if n, _, err := runCrashWorkload(v, setup); err != nil {
			t.Fatalf("setup failed at %d: %v", n, err)
		}
		attempted, durable = len(setup), len(setup)
		if err := v.Compact(context.Background()); err != nil {
			return attempted, durable, false
		}
		n, d, err := runCrashWorkload(v, during)
		attempted = len(setup) + n
		if d > 0 {
			durable = len(setup) + d
		}
		if err != nil {
			return attempted, durable, false
		}
		return attempted, durable, v.CommitCompact(context.Background()) == nil
	}

	clean := vfs.NewCrashFS()
	cleanSetup := vfs.NewCrashFS()
	{
		v := mustCreate(t, cleanSetup, "/", VolumeOptions{})
		runCrashWorkload(v, setup)
	}
	first := cleanSetup.Ops() + 1
	if _, _, ok := run(clean); !ok {
		t.Fatal("clean run did not commit")
	}
	total := clean.Ops()
	t.Logf("crash points %d..%d", first, total)

	for crashAt := first; crashAt <= total; crashAt++ {
		for _, mode := range []vfs.CrashMode{vfs.DropUnsynced, vfs.KeepPrefixOfLastWrite} {
			name := fmt.Sprintf("crash at %d mode %d", crashAt, mode)
			cfs := vfs.NewCrashFS()
			cfs.SetCrashAt(crashAt)
			attempted, durable, _ := run(cfs)
			after := cfs.CrashWith(vfs.CrashOptions{Mode: mode})
			v, err := OpenVolume(after, "/", "c", 1, VolumeOptions{})
			if err != nil {
				t.Fatalf("%s: reopen: %v", name, err)
			}
			for _, ext := range []string{extCompacted, extCompactIx, extCommit} {
				if _, err := after.Stat("/c_1" + ext); err == nil {
					t.Fatalf("%s: %s left after reopen", name, ext)
				}
			}
			matched := false
			var lastErr error
			for k := attempted; k >= durable && !matched; k-- {
				lastErr = compactMatches(v, copyState(states[k]), keys)
				matched = lastErr == nil
			}
			if !matched {
				t.Fatalf("%s: revision %d matches no state in [%d, %d]: %v", name, v.Info().CompactionRevision, durable, attempted, lastErr)
			}
			mustWrite(t, v, newTestNeedle(500, 5, 10, 500), WriteOptions{})
			checkRead(t, v, 500, 5, testData(10, 500))
			v.Close()
		}
	}
}

// TestCompactionLeftovers: on open, .cpd/.cpx without a marker are
// dropped, and a marker beside a .cpd without its .cpx is not followed.
func TestCompactionLeftovers(t *testing.T) {
	for _, files := range [][]string{
		{extCompacted},
		{extCompactIx},
		{extCompacted, extCompactIx},
		{extCommit, extCompacted},
	} {
		dir := t.TempDir()
		smallVolume(t, dir)
		for _, ext := range files {
			if err := os.WriteFile(filepath.Join(dir, "c_1"+ext), []byte("leftover"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		v := mustOpen(t, vfs.Default(), dir, VolumeOptions{})
		for k := uint64(1); k <= 5; k++ {
			checkRead(t, v, k, 1, testData(1000, k))
		}
		v.Close()
		for _, ext := range []string{extCompacted, extCompactIx, extCommit} {
			if _, err := os.Stat(filepath.Join(dir, "c_1"+ext)); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("leftovers %v: %s still there (%v)", files, ext, err)
			}
		}
	}
}

// TestCompactThrottle checks the pacing arithmetic with a fake clock that
// the throttle's sleeps advance: copying B bytes at R bytes a second takes
// B/R seconds of (fake) time, and a cancelled context stops the copy.
func TestCompactThrottle(t *testing.T) {
	dir := t.TempDir()
	clock := time.Unix(1_700_000_000, 0)
	var mu sync.Mutex
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	const rate = 100 << 10
	v := mustCreate(t, vfs.Default(), dir, VolumeOptions{Now: now, CompactBytesPerSecond: rate})
	defer v.Close()
	var slept time.Duration
	v.sleep = func(_ context.Context, d time.Duration) error {
		mu.Lock()
		defer mu.Unlock()
		slept += d
		clock = clock.Add(d)
		return nil
	}
	var copied int64
	for k := uint64(1); k <= 100; k++ {
		res := mustWrite(t, v, &needle.Needle{ID: k, Cookie: 1, Data: testData(5000, k)}, WriteOptions{})
		copied += needle.RecordLen(res.Size, needle.Version3)
	}
	if err := v.Compact(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := time.Duration(float64(copied) / rate * float64(time.Second))
	if slept < want-time.Millisecond || slept > want+time.Millisecond {
		t.Fatalf("slept %v copying %d bytes at %d B/s, want %v", slept, copied, rate, want)
	}
	if err := v.CleanupCompact(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	v.sleep = func(ctx context.Context, d time.Duration) error {
		cancel()
		return sleepCtx(ctx, d)
	}
	if err := v.Compact(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("compaction with a cancelled context: %v", err)
	}
	for _, ext := range []string{extCompacted, extCompactIx} {
		if _, err := os.Stat(filepath.Join(dir, "c_1"+ext)); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("%s left by a cancelled compaction: %v", ext, err)
		}
	}
}
