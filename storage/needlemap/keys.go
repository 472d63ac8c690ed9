package needlemap

import (
	"encoding/binary"
	"math/bits"
)

// A block's keys are stored in whichever of two encodings is smaller:
//
//   - deltas: n-1 uvarints, key[i] - key[i-1] for i = 1..n-1; a lookup
//     scans them. Best when keys are far apart.
//   - bitmap: words u8, then words × u64 LE; bit j (bit j&63 of word j>>6)
//     is set when first+j is a key. A lookup tests one bit and counts the
//     bits below it. Best when keys are dense: gaps of 1..8 cost about
//     0.6 bytes a key instead of 1.
//
// maxBitmapWords bounds a bitmap by its one-byte word count.
const maxBitmapWords = 255

// keysSize returns the size of the smaller encoding of es's keys and
// whether it is the bitmap.
func keysSize(es []entry) (size int, bitmap bool) {
	for i := 1; i < len(es); i++ {
		size += uvarintLen(es[i].key - es[i-1].key)
	}
	if span := es[len(es)-1].key - es[0].key; span < 64*maxBitmapWords {
		if b := 1 + 8*(int(span/64)+1); b < size {
			return b, true
		}
	}
	return size, false
}

// putKeys encodes es's keys into b, which has keysSize bytes.
func putKeys(b []byte, es []entry, bitmap bool) {
	first := es[0].key
	if bitmap {
		clear(b)
		b[0] = byte((len(b) - 1) / 8)
		for _, e := range es {
			j := e.key - first
			b[1+j/8] |= 1 << (j % 8)
		}
		return
	}
	p := 0
	for i := 1; i < len(es); i++ {
		p += binary.PutUvarint(b[p:], es[i].key-es[i-1].key)
	}
}

func uvarintLen(x uint64) int {
	n := 1
	for x >= 0x80 {
		x >>= 7
		n++
	}
	return n
}

// findKey returns the position of key among the n keys encoded in b that
// start at first.
func findKey(b []byte, n int, bitmap bool, first, key uint64) (int, bool) {
	if bitmap {
		j := key - first
		words := uint64(b[0])
		if j >= 64*words {
			return 0, false
		}
		w := int(j / 64)
		word := binary.LittleEndian.Uint64(b[1+8*w:])
		if word>>(j%64)&1 == 0 {
			return 0, false
		}
		i := bits.OnesCount64(word & (1<<(j%64) - 1))
		for x := range w {
			i += bits.OnesCount64(binary.LittleEndian.Uint64(b[1+8*x:]))
		}
		return i, true
	}
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

// eachKey calls fn with the position and value of each of the n keys
// encoded in b, in order, until fn returns false.
func eachKey(b []byte, n int, bitmap bool, first uint64, fn func(i int, key uint64) bool) bool {
	if bitmap {
		i := 0
		for w := range int(b[0]) {
			word := binary.LittleEndian.Uint64(b[1+8*w:])
			for word != 0 {
				bit := bits.TrailingZeros64(word)
				word &= word - 1
				if !fn(i, first+uint64(64*w+bit)) {
					return false
				}
				i++
			}
		}
		return true
	}
	k, p := first, 0
	for i := range n {
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
		if !fn(i, k) {
			return false
		}
	}
	return true
}
