package needlemap

// sparseFanout is how many blocks one sparse index key stands for. The
// sparse keys (2 bytes a block) stay in the CPU cache, and the refs of
// sparseFanout blocks share one 64-byte cache line, so finding a block
// costs one cache miss instead of one per level of a binary search.
const sparseFanout = 4

// indexRef is one block's first key and place in the arena.
type indexRef struct {
	first uint64
	loc   uint64 // chunk<<40 | offset<<8 | entries
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

func (x *blockIndex) add(r blockRef) {
	if len(x.refs)%sparseFanout == 0 {
		x.sparse = append(x.sparse, r.first)
	}
	x.refs = append(x.refs, indexRef{first: r.first, loc: uint64(r.chunk)<<40 | uint64(r.off)<<8 | uint64(r.n)})
}

func (x *blockIndex) ref(i int) blockRef {
	r := x.refs[i]
	return blockRef{first: r.first, chunk: uint32(r.loc >> 40), off: uint32(r.loc >> 8), n: int(r.loc & 0xff)}
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
