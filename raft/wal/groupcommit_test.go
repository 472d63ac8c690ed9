package wal

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"weedfs.dev/weed/raft"
	"weedfs.dev/weed/raft/raftpb"
)

// stallingSync is an fsync that blocks the first call until released, so a
// test can line writers up behind a running sync without timing anything.
type stallingSync struct {
	mu      sync.Mutex
	armed   bool // count and stall only once armed
	calls   int
	entered chan struct{} // closed when the first call starts
	release chan struct{}
}

func newStallingSync() *stallingSync {
	return &stallingSync{entered: make(chan struct{}), release: make(chan struct{})}
}

func (s *stallingSync) sync(f *os.File) error {
	s.mu.Lock()
	if !s.armed {
		s.mu.Unlock()
		return f.Sync()
	}
	s.calls++
	first := s.calls == 1
	s.mu.Unlock()
	if first {
		close(s.entered)
		<-s.release
	}
	return f.Sync()
}

func (s *stallingSync) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

// waitWritten polls (bounded) until n batches were written.
func waitWritten(t *testing.T, w *WAL, n uint64) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		w.mu.Lock()
		got := w.written
		w.mu.Unlock()
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d batches written", got, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// While one fsync runs, every Append and SaveHardState that arrives waits
// for the next fsync together: 1 + 1 syncs for 1 + n callers.
func TestGroupCommitSharesOneSync(t *testing.T) {
	const n = 16
	stall := newStallingSync()
	w, err := open(t.TempDir(), testOptions(0), stall.sync)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	base := w.Stats().Syncs // the new segment's own sync
	stall.mu.Lock()
	stall.armed = true
	stall.mu.Unlock()

	errs := make(chan error, n+1)
	go func() { errs <- w.Append(makeEntries(1, 1, 1)) }()
	select { // the first append is fsyncing, outside the lock
	case <-stall.entered:
	case err := <-errs:
		t.Fatalf("the first append returned (%v) without an fsync", err)
	case <-time.After(20 * time.Second):
		t.Fatal("the first append never reached fsync")
	}

	// Entries 2..n+1 by one appender each, in order; HardStates by others.
	var order sync.Mutex
	next := uint64(2)
	for g := 0; g < n; g++ {
		go func(g int) {
			if g%2 == 0 {
				errs <- w.SaveHardState(&raftpb.HardState{Term: 1, Commit: uint64(g)})
				return
			}
			order.Lock()
			b, err := encodeBatch(makeEntries(next, next, 1), nil)
			if err != nil {
				order.Unlock()
				errs <- err
				return
			}
			next++
			w.mu.Lock()
			seq, err := w.write(b)
			order.Unlock()
			if err == nil {
				err = w.waitDurable(seq)
			}
			w.mu.Unlock()
			errs <- err
		}(g)
	}
	waitWritten(t, w, n+1)
	close(stall.release)
	for i := 0; i < n+1; i++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if got := stall.count(); got != 2 {
		t.Fatalf("%d fsyncs for %d concurrent writers behind one fsync, want 2", got, n+1)
	}
	if got := w.Stats().Syncs - base; got != 2 {
		t.Fatalf("Stats counts %d syncs, want 2", got)
	}
	wantLog(t, w, 1, n/2+1, constTerm(1))
}

// After a failed fsync nothing is known of what reached the disk: the WAL
// refuses further writes instead of acknowledging them.
func TestFailedSyncIsSticky(t *testing.T) {
	fail := false
	failing := func(f *os.File) error {
		if fail {
			return errors.New("injected fsync failure")
		}
		return f.Sync()
	}
	w, err := open(t.TempDir(), testOptions(0), failing)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	mustAppend(t, w, makeEntries(1, 1, 1))
	fail = true
	if err := w.Append(makeEntries(2, 2, 1)); err == nil {
		t.Fatal("append with a failing fsync succeeded")
	}
	fail = false
	if err := w.Append(makeEntries(3, 3, 1)); err == nil {
		t.Fatal("append after a failed fsync succeeded")
	}
	if err := w.SaveHardState(&raftpb.HardState{Term: 1}); err == nil {
		t.Fatal("SaveHardState after a failed fsync succeeded")
	}
}

// Readers, an appender, a HardState saver and a compactor at once: every
// read sees a consistent log (run with -race).
func TestConcurrentReadersAndWriters(t *testing.T) {
	w := mustOpen(t, t.TempDir(), testOptions(2048))
	defer w.Close()
	const last = 400
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	wg.Add(4)
	go func() {
		defer wg.Done()
		for i := uint64(1); i <= last; i += 4 {
			if err := w.Append(makeEntries(i, i+3, 1)); err != nil {
				errs <- err
				return
			}
		}
	}()
	go func() {
		defer wg.Done()
		for i := uint64(1); i <= 100; i++ {
			if err := w.SaveHardState(&raftpb.HardState{Term: 1, Commit: i}); err != nil {
				errs <- err
				return
			}
		}
	}()
	go func() {
		defer wg.Done()
		for n := 0; n < 50; n++ {
			li, _ := w.LastIndex()
			if li > 20 {
				if err := w.Compact(li-20, 1); err != nil {
					errs <- err
					return
				}
			}
		}
	}()
	go func() {
		defer wg.Done()
		for n := 0; n < 300; n++ {
			w.mu.Lock() // read bounds and entries at one point in time
			fi, li := w.mem.mark.index+1, w.mem.last()
			w.mu.Unlock()
			if li < fi {
				continue
			}
			ents, err := w.Entries(fi, li+1, ^uint64(0))
			if errors.Is(err, raft.ErrCompacted) {
				continue // compacted in between
			}
			if err != nil {
				errs <- err
				return
			}
			for k, e := range ents {
				if e.Index != fi+uint64(k) || string(e.Data) != string(entryData(e.Index, 1)) {
					errs <- fmt.Errorf("read entry %d as %d %q", fi+uint64(k), e.Index, e.Data)
					return
				}
			}
		}
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if li, _ := w.LastIndex(); li != last {
		t.Fatalf("last %d, want %d", li, last)
	}
}
