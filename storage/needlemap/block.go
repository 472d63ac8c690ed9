package needlemap

import "encoding/binary"

// Layout constants of the frozen blocks; doc.go draws the byte tables.
const (
	// blockLen is the most entries one block holds. It bounds the linear
	// scan of a lookup and must fit the 8-bit count of a block's place.
	blockLen = 128
	// slotBytes is offset u32 | size u32 of one entry.
	slotBytes = 8
	// chunkSize is the size of one arena allocation.
	chunkSize = 256 << 10
	// deletedBit marks a deleted needle in a stored size; live sizes never
	// use it (see MaxSize).
	deletedBit = 1 << 31
)

// The index packs n-1 into 7 bits.
const _ uint = 128 - blockLen

// entry is one key with its stored size (deletedBit included).
type entry struct {
	key    uint64
	offset uint32
	size   uint32
}

func (e entry) value() Value {
	return Value{Offset: e.offset, Size: e.size &^ deletedBit, deleted: e.size&deletedBit != 0}
}

// arena is append-only storage for blocks, in chunks so that growing never
// copies what is there and never doubles the memory held. Chunks double in
// size from minChunk up to chunkSize, so the many small maps of a server
// with many volumes stay small.
type arena struct {
	chunks [][]byte
	held   int // sum of the chunks' capacities
}

// minChunk is the first chunk's size.
const minChunk = 1 << 10

// alloc returns n fresh bytes and where they live.
func (a *arena) alloc(n int) (chunk, off uint32, b []byte) {
	last := len(a.chunks) - 1
	if last < 0 || cap(a.chunks[last])-len(a.chunks[last]) < n {
		size := max(n, min(chunkSize, max(minChunk, a.held)))
		a.chunks = append(a.chunks, make([]byte, 0, size))
		a.held += size
		last++
	}
	c := a.chunks[last]
	start := len(c)
	a.chunks[last] = c[:start+n]
	return uint32(last), uint32(start), a.chunks[last][start : start+n]
}

// at returns the bytes from off to the end of a chunk.
func (a *arena) at(chunk, off uint32) []byte {
	return a.chunks[chunk][off:]
}

// bytes is the memory the arena holds.
func (a *arena) bytes() int { return a.held }

// used is the part of the arena blocks occupy.
func (a *arena) used() int {
	n := 0
	for _, c := range a.chunks {
		n += len(c)
	}
	return n
}

// frozen is the sorted, block-encoded part of a map. A block's key deltas
// and its slots live in two arenas: the keys of all blocks (under 1 byte a
// needle) and the index stay small enough for the CPU cache, so a lookup
// usually misses the cache only once, on the slot.
type frozen struct {
	keys  arena // per block: its keys, see keys.go
	slots arena // per block: n slots of offset u32 LE | size u32 LE
	index blockIndex
	n     int // entries in all blocks
	// garbage is the arena bytes of blocks that were rewritten elsewhere.
	garbage int
	// zero is always 0; see find.
	zero byte
}

// add encodes es (sorted, above every frozen key, 1..blockLen entries) as
// a new last block.
func (f *frozen) add(es []entry) {
	f.index.add(f.encode(es))
	f.n += len(es)
}

// encode writes es (sorted, 1..blockLen entries) into the arenas and
// returns where; the caller indexes it.
func (f *frozen) encode(es []entry) blockRef {
	size, bitmap := keysSize(es)
	kc, ko, kb := f.keys.alloc(size)
	putKeys(kb, es, bitmap)
	sc, so, sb := f.slots.alloc(len(es) * slotBytes)
	for i, e := range es {
		writeSlot(sb[i*slotBytes:], e.offset, e.size)
	}
	return blockRef{first: es[0].key, n: len(es), bitmap: bitmap, keyChunk: kc, keyOff: ko, slotChunk: sc, slotOff: so}
}

// entries appends the entries of block r to buf.
func (f *frozen) entries(r blockRef, buf []entry) []entry {
	sb := f.slots.at(r.slotChunk, r.slotOff)
	eachKey(f.keys.at(r.keyChunk, r.keyOff), r.n, r.bitmap, r.first, func(i int, k uint64) bool {
		buf = append(buf, readSlot(sb[i*slotBytes:], k))
		return true
	})
	return buf
}

// find returns the 8-byte slot of key, if a block holds it.
func (f *frozen) find(key uint64) ([]byte, bool) {
	bi := f.index.search(key)
	if bi < 0 {
		return nil, false
	}
	r := f.index.ref(bi)
	sb := f.slots.at(r.slotChunk, r.slotOff)
	// Load the slot the key would have if the block's keys were evenly
	// spread (keys from one sequencer nearly are) before reading the keys:
	// the two cache misses then overlap instead of following each other
	// (measured: 8-14% more lookups a second at 10M needles). The load is
	// kept by folding it, masked by the always-zero f.zero, into i.
	g := r.n - 1
	if bi+1 < len(f.index.refs) {
		if next := f.index.refs[bi+1].first; next > key {
			// The ratio is in [0, 1], 1 only by rounding: clamp.
			g = min(int(float64(key-r.first)/float64(next-r.first)*float64(r.n)), r.n-1)
		}
	}
	early := sb[g*slotBytes]
	i, ok := findKey(f.keys.at(r.keyChunk, r.keyOff), r.n, r.bitmap, r.first, key)
	if !ok {
		return nil, false
	}
	i += int(early & f.zero)
	return sb[i*slotBytes : (i+1)*slotBytes], true
}

// readSlot decodes a slot.
func readSlot(s []byte, key uint64) entry {
	return entry{key: key, offset: binary.LittleEndian.Uint32(s), size: binary.LittleEndian.Uint32(s[4:])}
}

// writeSlot overwrites a slot in place.
func writeSlot(s []byte, offset, size uint32) {
	binary.LittleEndian.PutUint32(s, offset)
	binary.LittleEndian.PutUint32(s[4:], size)
}

// each calls fn for every frozen entry in key order until fn returns
// false, and reports whether it ran to the end.
func (f *frozen) each(fn func(entry) bool) bool {
	for bi := range f.index.len() {
		r := f.index.ref(bi)
		sb := f.slots.at(r.slotChunk, r.slotOff)
		if !eachKey(f.keys.at(r.keyChunk, r.keyOff), r.n, r.bitmap, r.first, func(i int, k uint64) bool {
			return fn(readSlot(sb[i*slotBytes:], k))
		}) {
			return false
		}
	}
	return true
}
