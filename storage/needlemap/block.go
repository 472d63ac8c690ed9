package needlemap

import "encoding/binary"

// Layout constants of a frozen block; doc.go draws the byte table.
const (
	// blockLen is the most entries one block holds. It bounds the linear
	// scan of a lookup and must fit the 8-bit count of a block's loc.
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

// blockRef locates a frozen block in the arena.
type blockRef struct {
	first uint64 // key of the block's first entry
	chunk uint32
	off   uint32
	n     int // entries in the block, 1..blockLen
}

// arena is append-only storage for frozen blocks, in chunks so that growing
// never copies what is there and never doubles the memory held.
type arena struct {
	chunks [][]byte
}

// alloc returns n fresh bytes and where they live.
func (a *arena) alloc(n int) (chunk, off uint32, b []byte) {
	last := len(a.chunks) - 1
	if last < 0 || cap(a.chunks[last])-len(a.chunks[last]) < n {
		a.chunks = append(a.chunks, make([]byte, 0, max(chunkSize, n)))
		last++
	}
	c := a.chunks[last]
	start := len(c)
	a.chunks[last] = c[:start+n]
	return uint32(last), uint32(start), a.chunks[last][start : start+n]
}

// block returns the bytes from r's block to the end of its chunk; the block
// knows its own length.
func (a *arena) block(r blockRef) []byte {
	return a.chunks[r.chunk][r.off:]
}

// bytes is the memory the arena holds.
func (a *arena) bytes() int {
	n := 0
	for _, c := range a.chunks {
		n += cap(c)
	}
	return n
}

func uvarintLen(x uint64) int {
	n := 1
	for x >= 0x80 {
		x >>= 7
		n++
	}
	return n
}

// appendBlock encodes es (sorted, 1..blockLen entries) into a: the slots
// first, at fixed places, then the key deltas.
func appendBlock(a *arena, es []entry) blockRef {
	deltaBytes := 0
	for i := 1; i < len(es); i++ {
		deltaBytes += uvarintLen(es[i].key - es[i-1].key)
	}
	chunk, off, b := a.alloc(len(es)*slotBytes + deltaBytes)
	p := 0
	for _, e := range es {
		writeSlot(b, p, e.offset, e.size)
		p += slotBytes
	}
	for i := 1; i < len(es); i++ {
		p += binary.PutUvarint(b[p:], es[i].key-es[i-1].key)
	}
	return blockRef{first: es[0].key, chunk: chunk, off: off, n: len(es)}
}

// findSlot returns the position in b, a block of n entries starting at
// key first, of key's offset|size slot.
func findSlot(b []byte, n int, first, key uint64) (int, bool) {
	k, i, p := first, 0, n*slotBytes
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
	if k != key {
		return 0, false
	}
	return i * slotBytes, true
}

// readSlot decodes the entry slot at p of b.
func readSlot(b []byte, p int, key uint64) entry {
	return entry{key: key, offset: binary.LittleEndian.Uint32(b[p:]), size: binary.LittleEndian.Uint32(b[p+4:])}
}

// writeSlot overwrites the slot at p of b in place.
func writeSlot(b []byte, p int, offset, size uint32) {
	binary.LittleEndian.PutUint32(b[p:], offset)
	binary.LittleEndian.PutUint32(b[p+4:], size)
}

// eachInBlock calls fn for each entry of a block in key order until fn
// returns false, and reports whether it ran to the end.
func eachInBlock(b []byte, n int, first uint64, fn func(entry) bool) bool {
	k, p := first, n*slotBytes
	for i := 0; i < n; i++ {
		if i > 0 {
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
		if !fn(readSlot(b, i*slotBytes, k)) {
			return false
		}
	}
	return true
}
