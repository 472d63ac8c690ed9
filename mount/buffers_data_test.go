package mount

import (
	"testing"

	"weedfs.dev/weed/client/localput"
)

// Write buffers come from the shared-memory arena (so a volume server on
// this host can take them without a copy), never more than max at once,
// and trimming gives their memory back without losing the slots.
func TestBufferPoolArena(t *testing.T) {
	if !localput.Supported {
		t.Skip("no shared memory here")
	}
	const size, max = 64 << 10, 3
	p := newBufferPool(size, max)
	if p.arena == nil {
		t.Fatal("no arena")
	}
	seen := map[uint64]bool{}
	var out [][]byte
	for i := 0; i < max; i++ {
		b, _ := p.tryGet()
		if len(b) != size || cap(b) != size {
			t.Fatalf("buffer %d: len %d cap %d", i, len(b), cap(b))
		}
		off, ok := p.arena.Offset(b)
		if !ok || off%size != 0 || seen[off] {
			t.Fatalf("buffer %d at %d (in arena %v), seen %v", i, off, ok, seen)
		}
		seen[off] = true
		b[0], b[size-1] = byte(i+1), byte(i+1)
		out = append(out, b)
	}
	if b, wait := p.tryGet(); b != nil || wait == nil {
		t.Fatal("a buffer past max")
	}
	// Buffers do not overlap: each kept what was written into it.
	for i, b := range out {
		if b[0] != byte(i+1) || b[size-1] != byte(i+1) {
			t.Fatalf("buffer %d overwritten", i)
		}
	}
	p.put(out[1])
	p.trim()
	b, _ := p.tryGet()
	if off, _ := p.arena.Offset(b); off != 0 && !seen[off] {
		t.Fatalf("buffer after trim at %d", off)
	}
	if b[0] != 0 || b[size-1] != 0 {
		t.Fatal("a trimmed buffer still holds its bytes (memory not given back)")
	}
	if b, _ := p.tryGet(); b != nil {
		t.Fatal("trim made room past max")
	}
}
