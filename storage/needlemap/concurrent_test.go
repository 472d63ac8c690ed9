package needlemap

import (
	"sync"
	"testing"
)

// TestConcurrentReaders runs lookups, Stats and Ascend under a read lock
// beside a writer under the write lock, as the Volume does; with -race it
// proves the read paths change nothing.
func TestConcurrentReaders(t *testing.T) {
	m := New()
	m.flushMin = 16 // merges happen while readers wait
	var mu sync.RWMutex
	const n = 20000
	done := make(chan struct{})
	var wg sync.WaitGroup
	for r := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-done:
					return
				default:
				}
				mu.RLock()
				k := uint64(i*7+r) % (2 * n)
				if v, ok := m.Get(k); ok && v.Offset != uint32(k)+1 {
					t.Errorf("Get(%d) = %v", k, v)
				}
				if i%500 == 0 {
					prev, first := uint64(0), true
					m.Ascend(func(k uint64, _ Value) bool {
						if !first && k <= prev {
							t.Errorf("Ascend out of order: %d after %d", k, prev)
						}
						prev, first = k, false
						return true
					})
					_ = m.Stats()
				}
				mu.RUnlock()
			}
		}()
	}
	for i := range n {
		k := uint64(i) * 2
		if i%10 == 0 {
			k = uint64(n - i) // late keys
		}
		mu.Lock()
		m.Set(k, uint32(k)+1, 1)
		mu.Unlock()
	}
	close(done)
	wg.Wait()
}
