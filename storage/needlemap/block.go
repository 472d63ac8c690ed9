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
// and its slots live in two arenas: the deltas of all blocks (1 byte a
// needle) and the index stay small enough for the CPU cache, so a lookup
// usually misses the cache only once, on the slot.
type frozen struct {
	keys  arena // per block: n-1 uvarint key deltas
	slots arena // per block: n slots of offset u32 LE | size u32 LE
	index blockIndex
	n     int // entries in all blocks
}

func uvarintLen(x uint64) int {
	n := 1
	for x >= 0x80 {
		x >>= 7
		n++
	}
	return n
}

// add encodes es (sorted, above every frozen key, 1..blockLen entries) as
// a new last block.
func (f *frozen) add(es []entry) {
	deltaBytes := 0
	for i := 1; i < len(es); i++ {
		deltaBytes += uvarintLen(es[i].key - es[i-1].key)
	}
	kc, ko, kb := f.keys.alloc(deltaBytes)
	p := 0
	for i := 1; i < len(es); i++ {
		p += binary.PutUvarint(kb[p:], es[i].key-es[i-1].key)
	}
	sc, so, sb := f.slots.alloc(len(es) * slotBytes)
	for i, e := range es {
		writeSlot(sb[i*slotBytes:], e.offset, e.size)
	}
	f.index.add(blockRef{first: es[0].key, n: len(es), keyChunk: kc, keyOff: ko, slotChunk: sc, slotOff: so})
	f.n += len(es)
}

// find returns the 8-byte slot of key, if a block holds it.
func (f *frozen) find(key uint64) ([]byte, bool) {
	bi := f.index.search(key)
	if bi < 0 {
		return nil, false
	}
	r := f.index.ref(bi)
	i, ok := scanDeltas(f.keys.at(r.keyChunk, r.keyOff), r.n, r.first, key)
	if !ok {
		return nil, false
	}
	return f.slots.at(r.slotChunk, r.slotOff)[i*slotBytes : (i+1)*slotBytes], true
}

// scanDeltas returns the position of key in a block of n entries whose
// first key is first and whose deltas start b.
func scanDeltas(b []byte, n int, first, key uint64) (int, bool) {
	k, i, p := first, 0, 0
	for k < key {
		i++
		if i >= n {
			return 0, false
		}
		d := uint64(b[p])
		if d < 0x80 {
			p++
		} else {
			var w int
			d, w = binary.Uvarint(b[p:])
			p += w
		}
		k += d
	}
	return i, k == key
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
		kb, sb := f.keys.at(r.keyChunk, r.keyOff), f.slots.at(r.slotChunk, r.slotOff)
		k, p := r.first, 0
		for i := 0; i < r.n; i++ {
			if i > 0 {
				d := uint64(kb[p])
				if d < 0x80 {
					p++
				} else {
					var w int
					d, w = binary.Uvarint(kb[p:])
					p += w
				}
				k += d
			}
			if !fn(readSlot(sb[i*slotBytes:], k)) {
				return false
			}
		}
	}
	return true
}
