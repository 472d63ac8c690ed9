package sequence

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
)

// Errors returned by a Sequencer.
var (
	ErrZeroCount = errors.New("sequence: count must be at least 1")
	ErrClosed    = errors.New("sequence: sequencer closed")
)

// DefaultBlockSize is the number of keys reserved per Raft round trip. At
// 100,000 assigns a second a block lasts about 0.1 s, far longer than a
// Raft commit, and a failover skips at most two blocks of keys.
const DefaultBlockSize = 10000

// Reserver reserves count consecutive keys, all greater than or equal to
// atLeast, that no Reserve call ever returned before, and answers the first.
// The master's implementation proposes a ReserveKeys command through Raft.
type Reserver interface {
	Reserve(ctx context.Context, count, atLeast uint64) (start uint64, err error)
}

// span is the half-open key range [next, end).
type span struct{ next, end uint64 }

func (s span) left() uint64 { return s.end - s.next }

// cut drops the keys at or below floor.
func (s *span) cut(floor uint64) {
	switch {
	case s.next > floor:
	case floor >= s.end-1 || s.end == 0:
		s.next = s.end
	default:
		s.next = floor + 1
	}
}

// Stats counts what a Sequencer did, for tests and metrics.
type Stats struct {
	Issued    uint64 // keys handed out by Next
	Blocks    uint64 // blocks reserved (prefetches and cold starts)
	Dedicated uint64 // dedicated ranges for counts above the block size
	Waits     uint64 // Next calls that had to wait for a block to arrive
}

// Sequencer issues keys from reserved blocks. It is safe for concurrent
// use. Close stops the background reservation.
type Sequencer struct {
	res       Reserver
	blockSize uint64

	// ctx is cancelled by Close; it bounds the background reservations.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu sync.Mutex
	// Invariant: every key in cur and pending is > floor and was returned
	// by res exactly once and never issued.
	cur      span
	pending  span
	floor    uint64
	fetching bool
	// fetched is closed when the running background reservation ends.
	fetched  chan struct{}
	fetchErr error // error of the last background reservation, if it failed
	closed   bool
	stats    Stats
}

// New returns a Sequencer reserving blockSize keys at a time (0 means
// DefaultBlockSize). It reserves nothing until the first Next.
func New(res Reserver, blockSize uint64) *Sequencer {
	if blockSize == 0 {
		blockSize = DefaultBlockSize
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Sequencer{res: res, blockSize: blockSize, ctx: ctx, cancel: cancel}
}

// Next reserves count consecutive keys and returns the first.
func (s *Sequencer) Next(ctx context.Context, count uint64) (uint64, error) {
	if count == 0 {
		return 0, ErrZeroCount
	}
	if count > s.blockSize {
		return s.dedicated(ctx, count)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	waited := false
	for {
		if s.closed {
			return 0, ErrClosed
		}
		if s.cur.left() >= count {
			start := s.cur.next
			s.cur.next += count
			s.stats.Issued += count
			if s.cur.left() < s.blockSize/2 {
				s.prefetchLocked()
			}
			return start, nil
		}
		if s.pending.left() > 0 {
			// What is left of cur is too small: skip it rather than split a
			// request across two blocks that need not be adjacent.
			s.cur, s.pending = s.pending, span{}
			continue
		}
		s.prefetchLocked()
		if !waited {
			waited = true
			s.stats.Waits++
		}
		done := s.fetched
		s.mu.Unlock()
		select {
		case <-done:
		case <-ctx.Done():
			s.mu.Lock()
			return 0, fmt.Errorf("sequence: waiting for a key block: %w", ctx.Err())
		}
		s.mu.Lock()
		if !s.closed && s.pending.left() == 0 && s.fetchErr != nil {
			err := s.fetchErr
			s.fetchErr = nil // the next caller starts a fresh attempt
			return 0, err
		}
	}
}

// dedicated reserves a range of its own for a request above the block size.
func (s *Sequencer) dedicated(ctx context.Context, count uint64) (uint64, error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return 0, ErrClosed
	}
	atLeast := s.floor + 1
	s.mu.Unlock()
	start, err := s.res.Reserve(ctx, count, atLeast)
	if err != nil {
		return 0, fmt.Errorf("sequence: reserving %d keys: %w", count, err)
	}
	if err := checkRange(start, count, atLeast); err != nil {
		return 0, err
	}
	s.mu.Lock()
	s.stats.Dedicated++
	s.stats.Issued += count
	s.mu.Unlock()
	return start, nil
}

// prefetchLocked starts a background reservation unless one is running or
// a block is already waiting. s.mu must be held.
func (s *Sequencer) prefetchLocked() {
	if s.fetching || s.pending.left() > 0 || s.closed {
		return
	}
	s.fetching = true
	s.fetched = make(chan struct{})
	atLeast := s.floor + 1
	s.wg.Add(1)
	go s.fetch(atLeast, s.fetched)
}

func (s *Sequencer) fetch(atLeast uint64, done chan struct{}) {
	defer s.wg.Done()
	start, err := s.res.Reserve(s.ctx, s.blockSize, atLeast)
	if err != nil {
		err = fmt.Errorf("sequence: reserving a block of %d keys: %w", s.blockSize, err)
	} else {
		err = checkRange(start, s.blockSize, atLeast)
	}
	s.mu.Lock()
	s.fetching = false
	if err != nil {
		s.fetchErr = err
	} else {
		s.stats.Blocks++
		s.fetchErr = nil
		b := span{next: start, end: start + s.blockSize}
		// Observe may have raised the floor while the call was in flight.
		b.cut(s.floor)
		s.pending = b
	}
	close(done)
	s.mu.Unlock()
}

// checkRange rejects a range a correct Reserver never returns, so a bug
// below cannot make keys repeat or wrap around.
func checkRange(start, count, atLeast uint64) error {
	if start < atLeast || start == 0 || count > math.MaxUint64-start {
		return fmt.Errorf("sequence: reserver returned start %d for %d keys at or above %d: %w",
			start, count, atLeast, errBadRange)
	}
	return nil
}

var errBadRange = errors.New("sequence: reserved range out of bounds")

// Observe tells the sequencer that key max is already in use (the highest
// key a volume server reported). Keys at or below it are never issued from
// now on: blocks below it are cut, and new reservations start above it.
func (s *Sequencer) Observe(max uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if max <= s.floor {
		return
	}
	s.floor = max
	s.cur.cut(max)
	s.pending.cut(max)
}

// Stats returns counters of what the sequencer did so far.
func (s *Sequencer) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// Close stops the background reservation and waits for it to end. Next
// fails with ErrClosed afterwards. Keys of the current blocks are dropped.
func (s *Sequencer) Close() error {
	s.mu.Lock()
	s.closed = true
	s.cur, s.pending = span{}, span{}
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
	return nil
}
