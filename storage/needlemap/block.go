package needlemap

import "encoding/binary"

// Layout constants of a frozen block; doc.go draws the byte table.
const (
	// blockLen is the most entries one block holds. It bounds the linear
	// scan of a lookup and must fit the one-byte count.
	blockLen = 128
	// blockHeader is count u8 | deltaBytes u16.
	blockHeader = 3
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

// appendBlock encodes es (sorted, 1..blockLen entries) into a.
func appendBlock(a *arena, es []entry) blockRef {
	deltaBytes := 0
	for i := 1; i < len(es); i++ {
		deltaBytes += uvarintLen(es[i].key - es[i-1].key)
	}
	chunk, off, b := a.alloc(blockHeader + deltaBytes + len(es)*slotBytes)
	b[0] = byte(len(es))
	binary.LittleEndian.PutUint16(b[1:], uint16(deltaBytes))
	p := blockHeader
	for i := 1; i < len(es); i++ {
		p += binary.PutUvarint(b[p:], es[i].key-es[i-1].key)
	}
	for _, e := range es {
		binary.LittleEndian.PutUint32(b[p:], e.offset)
		binary.LittleEndian.PutUint32(b[p+4:], e.size)
		p += slotBytes
	}
	return blockRef{first: es[0].key, chunk: chunk, off: off}
}

// findSlot returns the position in b of key's offset|size slot.
func findSlot(b []byte, first, key uint64) (int, bool) {
	n := int(b[0])
	deltaBytes := int(binary.LittleEndian.Uint16(b[1:]))
	k, i, p := first, 0, blockHeader
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
	return blockHeader + deltaBytes + i*slotBytes, true
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
func eachInBlock(b []byte, first uint64, fn func(entry) bool) bool {
	n := int(b[0])
	deltaBytes := int(binary.LittleEndian.Uint16(b[1:]))
	k, p, s := first, blockHeader, blockHeader+deltaBytes
	for i := 0; i < n; i++ {
		if i > 0 {
			d, w := binary.Uvarint(b[p:])
			p += w
			k += d
		}
		if !fn(readSlot(b, s, k)) {
			return false
		}
		s += slotBytes
	}
	return true
}

// searchBlocks returns the index of the last block whose first key is <= key,
// or -1.
func searchBlocks(index []blockRef, key uint64) int {
	lo, hi := 0, len(index)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if index[mid].first <= key {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo - 1
}
