package mount

import (
	"runtime"
	"sync"
	"time"

	"weedfs.dev/weed/client/localput"
	"weedfs.dev/weed/storage/needle"
)

// bufferPool hands out write buffers of one size, at most max of them at
// once: the bound on dirty data of the whole mount.
//
// The buffers are slices of one shared-memory arena when the system has
// them (localput.Arena, a sealed memfd), so a volume server on this host
// can store a chunk straight from the mount's memory
// (client.ChunkWriter.PutFrom); else they come from the Go heap.
type bufferPool struct {
	size int
	max  int
	// arena holds the buffers, max of size each; nil: heap buffers.
	arena *localput.Arena

	mu   sync.Mutex
	free [][]byte
	out  int
	// made is how many arena slots were handed out at least once.
	// Invariant (arena): made == out + len(free).
	made  int
	freed chan struct{} // closed and replaced whenever a buffer comes back
}

func newBufferPool(size, max int) *bufferPool {
	p := &bufferPool{size: size, max: max, freed: make(chan struct{})}
	if localput.Supported && size > 0 && max > 0 {
		if a, err := localput.NewArena(size * max); err == nil {
			p.arena = a
			// The arena's memory goes back when the pool is unreachable. Its
			// mapping stays (reading zeros), so no slice can fault.
			runtime.AddCleanup(p, func(a *localput.Arena) { a.Release() }, a)
		}
	}
	return p
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
		if p.arena != nil {
			at := p.made * p.size
			p.made++
			return p.arena.Bytes()[at : at+p.size : at+p.size], nil
		}
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

// trim gives the free buffers' memory back so an idle mount is small:
// heap buffers are dropped, arena buffers have their pages discarded.
func (p *bufferPool) trim() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.arena == nil {
		p.free = nil
		return
	}
	for _, b := range p.free {
		p.arena.Discard(b)
	}
}

// fill copies p to w.data at in, before start and end take it in, and
// keeps w's running checksum. The volume server stores the sum as the
// chunk's needle checksum (end to end, see client/localput) instead of
// reading the bytes once more, cold in its core's cache. Only a write
// continuing the summed range, in order, extends it; any other loses it
// for good, and the upload leaves the checksum to the server.
//
// The sum is of p, the FUSE request the kernel just wrote (in cache),
// before the copy: a copy of 1 MiB or more (a whole FUSE write) goes
// around the cache (non-temporal stores), so summing the buffer after it
// read it back from memory and cost the mount what it saved the volume
// server; copying in cached pieces costs the stores' reads of memory.
func (w *wbuf) fill(in int64, p []byte) {
	if w.crcLost || in != w.end {
		w.crcLost = true
	} else {
		w.crc = needle.UpdateCRC(w.crc, p)
	}
	copy(w.data[in:], p)
}

// dataCRC is the checksum of w.data[w.start:w.end], nil when lost.
func (w *wbuf) dataCRC() *uint32 {
	if w.crcLost {
		return nil
	}
	crc := w.crc
	return &crc
}
