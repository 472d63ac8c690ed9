package needlemap

// sparseFanout is how many blocks one sparse index key stands for. The
// sparse keys (2 bytes a block) stay in the CPU cache, so finding a block
// costs one cache line of refs instead of one per level of a binary search
// over all of them.
const sparseFanout = 4

// blockRef locates a frozen block in the two arenas.
type blockRef struct {
	first     uint64 // key of the block's first entry
	n         int    // entries, 1..blockLen
	bitmap    bool   // keys encoded as a bitmap, not deltas
	keyChunk  uint32
	keyOff    uint32
	slotChunk uint32
	slotOff   uint32
}

// indexRef is a blockRef packed into 24 bytes.
type indexRef struct {
	first uint64
	keys  uint64 // keyChunk<<40 | keyOff<<8 | bitmap<<7 | n-1
	slots uint64 // slotChunk<<32 | slotOff
}

// blockIndex finds the block that may hold a key.
// Invariant: refs[i].first is strictly increasing in i;
// sparse[j] == refs[j*sparseFanout].first.
type blockIndex struct {
	refs   []indexRef
	sparse []uint64
}

func newBlockIndex(capacity int) blockIndex {
	return blockIndex{
		refs:   make([]indexRef, 0, capacity),
		sparse: make([]uint64, 0, capacity/sparseFanout+1),
	}
}

func (x *blockIndex) len() int { return len(x.refs) }

// bytes is the memory the index holds.
func (x *blockIndex) bytes() int { return 24*cap(x.refs) + 8*cap(x.sparse) }

// grow makes room for one more element, growing by 1/8 instead of append's
// doubling: the index is added to once per block, so copying is cheap, and
// half-empty capacity would cost up to 0.1 bytes a needle.
func grow[T any](s []T) []T {
	if len(s) < cap(s) {
		return s
	}
	n := make([]T, len(s), len(s)+len(s)/8+16)
	copy(n, s)
	return n
}

func (x *blockIndex) add(r blockRef) {
	if len(x.refs)%sparseFanout == 0 {
		x.sparse = append(grow(x.sparse), r.first)
	}
	x.refs = append(grow(x.refs), indexRef{
		first: r.first,
		keys:  uint64(r.keyChunk)<<40 | uint64(r.keyOff)<<8 | bit(r.bitmap)<<7 | uint64(r.n-1),
		slots: uint64(r.slotChunk)<<32 | uint64(r.slotOff),
	})
}

func (x *blockIndex) ref(i int) blockRef {
	r := x.refs[i]
	return blockRef{
		first:     r.first,
		n:         int(r.keys&0x7f) + 1,
		bitmap:    r.keys&0x80 != 0,
		keyChunk:  uint32(r.keys >> 40),
		keyOff:    uint32(r.keys >> 8),
		slotChunk: uint32(r.slots >> 32),
		slotOff:   uint32(r.slots),
	}
}

// search returns the index of the last block whose first key is <= key,
// or -1.
func (x *blockIndex) search(key uint64) int {
	lo, hi := 0, len(x.sparse)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if x.sparse[mid] <= key {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	if lo == 0 {
		return -1
	}
	i := (lo - 1) * sparseFanout
	end := min(i+sparseFanout, len(x.refs))
	for i+1 < end && x.refs[i+1].first <= key {
		i++
	}
	return i
}

func bit(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}
