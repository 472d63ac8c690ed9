package storage

import (
	"context"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"weedfs.dev/weed/storage/vfs"
)

// syncCountFS counts File.Sync calls on .dat files; while gate is set, the
// first such Sync blocks until the gate is closed, so a test can pile
// writers up behind a sync in flight without timing anything.
type syncCountFS struct {
	vfs.FS
	syncs   atomic.Int64
	started chan struct{} // closed when the first gated sync starts
	gate    chan struct{} // the gated sync waits for this to be closed
	once    sync.Once
}

func (c *syncCountFS) OpenFile(name string, flag int, perm os.FileMode) (vfs.File, error) {
	f, err := c.FS.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return &syncCountFile{File: f, fs: c, dat: strings.HasSuffix(name, extDat)}, nil
}

type syncCountFile struct {
	vfs.File
	fs  *syncCountFS
	dat bool
}

func (f *syncCountFile) Sync() error {
	if f.dat {
		f.fs.syncs.Add(1)
		if f.fs.gate != nil {
			f.fs.once.Do(func() {
				close(f.fs.started)
				<-f.fs.gate
			})
		}
	}
	return f.File.Sync()
}

// TestGroupCommit shows concurrent fsync writers sharing syncs: 32 writers
// queue behind one sync in flight, and all of them are covered by one more.
func TestGroupCommit(t *testing.T) {
	const writers = 32
	fs := &syncCountFS{FS: vfs.Default()}
	dir := t.TempDir()
	v := mustCreate(t, fs, dir, VolumeOptions{})
	defer v.Close()
	fs.started, fs.gate = make(chan struct{}), make(chan struct{})
	fs.syncs.Store(0)

	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := uint64(i + 1)
			_, err := v.Write(context.Background(), newTestNeedle(key, 7, 200, key), WriteOptions{Fsync: true})
			errs <- err
		}()
	}
	allDone := make(chan struct{})
	go func() { wg.Wait(); close(allDone) }()
	select {
	case <-fs.started:
	case <-allDone: // every writer failed before syncing; reported below
	}
	// Wait until every writer has published its append (or failed); they
	// are all waiting for durability now, behind the gated sync.
	for i := 0; ; i++ {
		v.mu.RLock()
		seq := v.writeSeq
		v.mu.RUnlock()
		if seq+uint64(len(errs)) >= writers {
			break
		}
		if i > 100_000_000 {
			t.Fatalf("only %d of %d writers published", seq, writers)
		}
		runtime.Gosched()
	}
	close(fs.gate)
	<-allDone
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := fs.syncs.Load(); n > 2 {
		t.Fatalf("%d writers caused %d syncs of .dat, want at most 2 (one in flight, one for the rest)", writers, n)
	}
	v.sync.mu.Lock()
	synced := v.sync.synced
	v.sync.mu.Unlock()
	if synced != writers {
		t.Fatalf("synced up to %d, want %d", synced, writers)
	}
	for i := range writers {
		key := uint64(i + 1)
		checkRead(t, v, key, 7, testData(200, key))
	}
}

// TestFsyncWriteIsDurable checks with CrashFS that an fsync write survives
// power loss and a plain one need not, and that the volume-level option
// makes every write durable.
func TestFsyncWriteIsDurable(t *testing.T) {
	for _, volumeFsync := range []bool{false, true} {
		cfs := vfs.NewCrashFS()
		v := mustCreate(t, cfs, "/", VolumeOptions{Fsync: volumeFsync})
		mustWrite(t, v, newTestNeedle(1, 1, 100, 1), WriteOptions{Fsync: true})
		mustWrite(t, v, newTestNeedle(2, 1, 100, 2), WriteOptions{})
		after := mustOpen(t, cfs.Crash(vfs.DropUnsynced), "/", VolumeOptions{})
		checkRead(t, after, 1, 1, testData(100, 1))
		_, err := after.Read(context.Background(), 2, 1, ReadOptions{})
		if volumeFsync {
			if err != nil {
				t.Fatalf("volume fsync: write 2 lost: %v", err)
			}
		} else {
			wantErr(t, err, ErrNotFound, "unsynced write after power loss")
		}
		after.Close()
		v.Close()
	}
}
