package sequence

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

// keySet records issued ranges and fails the test on any overlap.
type keySet struct {
	mu   sync.Mutex
	seen map[uint64]bool
}

func newKeySet() *keySet { return &keySet{seen: map[uint64]bool{}} }

func (k *keySet) add(t *testing.T, start, count uint64) {
	k.mu.Lock()
	defer k.mu.Unlock()
	for key := start; key < start+count; key++ {
		if key == 0 {
			t.Errorf("key 0 issued")
		}
		if k.seen[key] {
			t.Errorf("key %d issued twice", key)
		}
		k.seen[key] = true
	}
}

func TestNextIssuesConsecutiveKeysFromOne(t *testing.T) {
	s := New(&MemoryReserver{}, 100)
	defer s.Close()
	ctx := context.Background()
	want := uint64(1)
	for i := 0; i < 250; i++ {
		count := uint64(i%3 + 1)
		got, err := s.Next(ctx, count)
		if err != nil {
			t.Fatal(err)
		}
		if got < want {
			t.Fatalf("call %d: start %d below %d: keys went backwards", i, got, want)
		}
		want = got + count
	}
	if st := s.Stats(); st.Issued == 0 || st.Blocks < 5 {
		t.Fatalf("stats %+v: expected several blocks for 500 keys of blocks of 100", st)
	}
}

func TestNextZeroCount(t *testing.T) {
	s := New(&MemoryReserver{}, 10)
	defer s.Close()
	if _, err := s.Next(context.Background(), 0); !errors.Is(err, ErrZeroCount) {
		t.Fatalf("got %v, want ErrZeroCount", err)
	}
}

func TestRequestLargerThanBlockGetsDedicatedRange(t *testing.T) {
	mem := &MemoryReserver{}
	s := New(mem, 10)
	defer s.Close()
	ctx := context.Background()
	keys := newKeySet()
	a, err := s.Next(ctx, 3)
	if err != nil {
		t.Fatal(err)
	}
	keys.add(t, a, 3)
	b, err := s.Next(ctx, 1000)
	if err != nil {
		t.Fatal(err)
	}
	keys.add(t, b, 1000)
	c, err := s.Next(ctx, 5)
	if err != nil {
		t.Fatal(err)
	}
	keys.add(t, c, 5)
	if st := s.Stats(); st.Dedicated != 1 || st.Issued != 1008 {
		t.Fatalf("stats %+v, want 1 dedicated range and 1008 keys issued", st)
	}
}

// TestFittingSkipsTail: a request that does not fit in what is left of
// the block moves to the next block; the tail is skipped, not split.
func TestFittingSkipsTail(t *testing.T) {
	s := New(&MemoryReserver{}, 10)
	defer s.Close()
	ctx := context.Background()
	first, _ := s.Next(ctx, 8) // 1..8, prefetch starts
	second, err := s.Next(ctx, 5)
	if err != nil {
		t.Fatal(err)
	}
	if first != 1 || second != 11 {
		t.Fatalf("got starts %d and %d, want 1 and 11 (9, 10 skipped)", first, second)
	}
}

func TestConcurrentSlowReserverNoDuplicates(t *testing.T) {
	mem := &MemoryReserver{}
	slow := reserverFunc(func(ctx context.Context, count, atLeast uint64) (uint64, error) {
		time.Sleep(time.Duration(rand.IntN(300)) * time.Microsecond)
		return mem.Reserve(ctx, count, atLeast)
	})
	s := New(slow, 64)
	defer s.Close()
	keys := newKeySet()
	var wg sync.WaitGroup
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(g), 1))
			for i := 0; i < 300; i++ {
				count := uint64(r.IntN(20) + 1)
				if i%97 == 0 {
					count = 100 // above the block size: dedicated range
				}
				start, err := s.Next(context.Background(), count)
				if err != nil {
					t.Error(err)
					return
				}
				keys.add(t, start, count)
			}
		}(g)
	}
	wg.Wait()
	if got, max := uint64(len(keys.seen)), mem.Max(); got > max {
		t.Fatalf("%d keys issued but only %d reserved", got, max)
	}
}

type reserverFunc func(ctx context.Context, count, atLeast uint64) (uint64, error)

func (f reserverFunc) Reserve(ctx context.Context, count, atLeast uint64) (uint64, error) {
	return f(ctx, count, atLeast)
}

// gatedReserver blocks every Reserve until the test releases it, so the
// test decides exactly when a block arrives.
type gatedReserver struct {
	mem     MemoryReserver
	entered chan struct{}
	release chan struct{}
}

func newGated() *gatedReserver {
	return &gatedReserver{entered: make(chan struct{}), release: make(chan struct{})}
}

func (g *gatedReserver) Reserve(ctx context.Context, count, atLeast uint64) (uint64, error) {
	select {
	case g.entered <- struct{}{}:
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	select {
	case <-g.release:
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	return g.mem.Reserve(ctx, count, atLeast)
}

// waitFetched returns once the running background reservation ended.
func waitFetched(s *Sequencer) {
	s.mu.Lock()
	ch := s.fetched
	s.mu.Unlock()
	<-ch
}

// TestSteadyStateNeverWaits: once the first block arrived, the next block
// is reserved while the current one still has keys, so Next never waits
// for the reserver even with many concurrent callers.
func TestSteadyStateNeverWaits(t *testing.T) {
	const block = 100
	g := newGated()
	s := New(g, block)
	defer s.Close()
	ctx := context.Background()
	keys := newKeySet()

	first := make(chan error, 1)
	go func() {
		start, err := s.Next(ctx, 1)
		if err == nil {
			keys.add(t, start, 1)
		}
		first <- err
	}()
	<-g.entered // cold start: nothing reserved yet, this caller waits
	g.release <- struct{}{}
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	// Use half the block so the prefetch of the second block starts.
	consume(t, s, keys, block/2)
	for round := 0; round < 10; round++ {
		<-g.entered // a prefetch is running while keys remain
		g.release <- struct{}{}
		waitFetched(s)
		// A whole block of keys: the rest of this one and half the next,
		// which starts the following prefetch.
		consume(t, s, keys, block)
	}
	st := s.Stats()
	if st.Waits != 1 {
		t.Fatalf("stats %+v: Next waited %d times, want only the cold start", st, st.Waits)
	}
	if st.Blocks != 11 {
		t.Fatalf("stats %+v: want 11 blocks", st)
	}
}

// consume takes n keys, one at a time, from 8 goroutines.
func consume(t *testing.T, s *Sequencer, keys *keySet, n int) {
	t.Helper()
	var wg sync.WaitGroup
	work := make(chan struct{}, n)
	for i := 0; i < n; i++ {
		work <- struct{}{}
	}
	close(work)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range work {
				start, err := s.Next(context.Background(), 1)
				if err != nil {
					t.Error(err)
					return
				}
				keys.add(t, start, 1)
			}
		}()
	}
	wg.Wait()
}

func TestObserveSkipsKeysInUse(t *testing.T) {
	s := New(&MemoryReserver{}, 100)
	defer s.Close()
	ctx := context.Background()
	k, _ := s.Next(ctx, 1)
	if k != 1 {
		t.Fatalf("first key %d, want 1", k)
	}
	s.Observe(50) // inside the current block
	k, _ = s.Next(ctx, 1)
	if k != 51 {
		t.Fatalf("after Observe(50) got %d, want 51", k)
	}
	s.Observe(10) // lower: no effect
	s.Observe(5000)
	for i := 0; i < 300; i++ {
		k, err := s.Next(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		if k <= 5000 {
			t.Fatalf("key %d issued after Observe(5000)", k)
		}
	}
}

func TestObserveWhileReservationInFlight(t *testing.T) {
	g := newGated()
	s := New(g, 100)
	defer s.Close()
	got := make(chan uint64, 1)
	go func() {
		k, _ := s.Next(context.Background(), 1)
		got <- k
	}()
	<-g.entered // the reservation was asked with the old floor
	s.Observe(30)
	g.release <- struct{}{}
	if k := <-got; k != 31 {
		t.Fatalf("got key %d, want 31: keys up to 30 are in use", k)
	}
}

// TestFailoverNeverReusesKeys: a new leader starts a fresh sequencer over
// the same replicated counter; the old leader's unused keys are skipped.
func TestFailoverNeverReusesKeys(t *testing.T) {
	mem := &MemoryReserver{} // stands for the replicated state
	ctx := context.Background()
	keys := newKeySet()
	for leader := 0; leader < 5; leader++ {
		s := New(mem, 50)
		for i := 0; i < 30+leader*17; i++ {
			k, err := s.Next(ctx, 2)
			if err != nil {
				t.Fatal(err)
			}
			keys.add(t, k, 2)
		}
		s.Close()
	}
}

func TestReserverErrorReachesCallerThenRecovers(t *testing.T) {
	mem := &MemoryReserver{}
	boom := errors.New("not leader")
	var mu sync.Mutex
	fail := true
	r := reserverFunc(func(ctx context.Context, count, atLeast uint64) (uint64, error) {
		mu.Lock()
		defer mu.Unlock()
		if fail {
			return 0, boom
		}
		return mem.Reserve(ctx, count, atLeast)
	})
	s := New(r, 10)
	defer s.Close()
	if _, err := s.Next(context.Background(), 1); !errors.Is(err, boom) {
		t.Fatalf("got %v, want the reserver's error", err)
	}
	mu.Lock()
	fail = false
	mu.Unlock()
	if k, err := s.Next(context.Background(), 1); err != nil || k != 1 {
		t.Fatalf("got %d, %v; want key 1 once the reserver works", k, err)
	}
}

func TestBadRangeFromReserverIsRejected(t *testing.T) {
	r := reserverFunc(func(ctx context.Context, count, atLeast uint64) (uint64, error) {
		return 0, nil // a broken reserver: key 0 and below atLeast
	})
	s := New(r, 10)
	defer s.Close()
	if _, err := s.Next(context.Background(), 1); !errors.Is(err, errBadRange) {
		t.Fatalf("got %v, want errBadRange", err)
	}
	if _, err := s.Next(context.Background(), 100); !errors.Is(err, errBadRange) {
		t.Fatalf("dedicated: got %v, want errBadRange", err)
	}
}

func TestContextCancelWhileWaiting(t *testing.T) {
	g := newGated()
	s := New(g, 10)
	defer s.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := s.Next(ctx, 1)
		done <- err
	}()
	<-g.entered
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
}

func TestCloseStopsBackgroundReservation(t *testing.T) {
	g := newGated()
	s := New(g, 10)
	done := make(chan error, 1)
	go func() {
		_, err := s.Next(context.Background(), 1)
		done <- err
	}()
	<-g.entered // the reservation blocks until its context ends
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, ErrClosed) {
		t.Fatalf("waiting caller got %v, want ErrClosed", err)
	}
	if _, err := s.Next(context.Background(), 1); !errors.Is(err, ErrClosed) {
		t.Fatalf("after Close got %v, want ErrClosed", err)
	}
}

func TestMemoryReserverExhausted(t *testing.T) {
	var m MemoryReserver
	if _, err := m.Reserve(context.Background(), 10, ^uint64(0)-5); !errors.Is(err, ErrExhausted) {
		t.Fatalf("got %v, want ErrExhausted", err)
	}
}

func BenchmarkNext(b *testing.B) {
	s := New(&MemoryReserver{}, DefaultBlockSize)
	defer s.Close()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Next(ctx, 1); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkNextParallel(b *testing.B) {
	s := New(&MemoryReserver{}, DefaultBlockSize)
	defer s.Close()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			if _, err := s.Next(ctx, 1); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// TestObserveConcurrentWithNext: floors raised while many goroutines take
// keys never cause a duplicate, and keys after the last Observe are above it.
func TestObserveConcurrentWithNext(t *testing.T) {
	mem := &MemoryReserver{}
	s := New(mem, 32)
	defer s.Close()
	keys := newKeySet()
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				k, err := s.Next(context.Background(), 3)
				if err != nil {
					t.Error(err)
					return
				}
				keys.add(t, k, 3)
			}
		}()
	}
	for i := uint64(1); i <= 50; i++ {
		s.Observe(i * 200)
	}
	wg.Wait()
	last := mem.Max() + 1000
	s.Observe(last)
	for i := 0; i < 100; i++ {
		if k, _ := s.Next(context.Background(), 1); k <= last {
			t.Fatalf("key %d at or below the observed %d", k, last)
		}
	}
}
