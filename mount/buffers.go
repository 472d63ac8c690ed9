package mount

import (
	"sync"
	"time"
)

// bufferPool hands out write buffers of one size, at most max of them at
// once: the bound on dirty data of the whole mount.
type bufferPool struct {
	size int
	max  int

	mu    sync.Mutex
	free  [][]byte
	out   int
	freed chan struct{} // closed and replaced whenever a buffer comes back
}

func newBufferPool(size, max int) *bufferPool {
	return &bufferPool{size: size, max: max, freed: make(chan struct{})}
}

// tryGet returns a buffer, or nil (and a channel closed when one comes
// back) when max are out.
func (p *bufferPool) tryGet() ([]byte, <-chan struct{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n := len(p.free); n > 0 {
		b := p.free[n-1]
		p.free = p.free[:n-1]
		p.out++
		return b, nil
	}
	if p.out < p.max {
		p.out++
		return make([]byte, p.size), nil
	}
	return nil, p.freed
}

// get waits for a buffer; relieve is called (without locks held) each
// time none is free, so the caller can make others give theirs back.
func (p *bufferPool) get(relieve func()) []byte {
	for {
		b, wait := p.tryGet()
		if b != nil {
			return b
		}
		relieve()
		t := time.NewTimer(20 * time.Millisecond)
		select {
		case <-wait:
		case <-t.C:
		}
		t.Stop()
	}
}

func (p *bufferPool) put(b []byte) {
	if cap(b) != p.size {
		return
	}
	p.mu.Lock()
	p.out--
	p.free = append(p.free, b[:p.size])
	close(p.freed)
	p.freed = make(chan struct{})
	p.mu.Unlock()
}

// trim drops the free buffers so an idle mount gives memory back.
func (p *bufferPool) trim() {
	p.mu.Lock()
	p.free = nil
	p.mu.Unlock()
}
