package sequence

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
)

// ErrExhausted: the key space has no room for the requested count.
var ErrExhausted = errors.New("sequence: key space exhausted")

// MemoryReserver is a Reserver over a counter in memory, for tests and for
// a single master that runs without Raft. Keys start at 1.
type MemoryReserver struct {
	mu  sync.Mutex
	max uint64 // highest key reserved so far
}

// Reserve implements Reserver.
func (m *MemoryReserver) Reserve(ctx context.Context, count, atLeast uint64) (uint64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if count == 0 {
		return 0, ErrZeroCount
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	start := max(m.max+1, atLeast, 1)
	if start == 0 || count > math.MaxUint64-start {
		return 0, fmt.Errorf("sequence: %d keys from %d: %w", count, start, ErrExhausted)
	}
	m.max = start + count - 1
	return start, nil
}

// Max returns the highest key reserved so far.
func (m *MemoryReserver) Max() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.max
}
