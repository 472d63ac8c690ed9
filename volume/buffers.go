package volume

import (
	"bytes"
	"encoding/json"
	"math/bits"
	"sync"
	"unicode/utf8"
)

// Pooled buffers come in size classes: powers of two and the halfway steps
// between them (4 KiB, 6 KiB, 8 KiB, 12 KiB ... 32 MiB), so a 4 MiB chunk
// with its multipart framing takes a 6 MiB buffer, not an 8 MiB one, and a
// small body never holds a large buffer.
const (
	minPooledShift  = 12 // 4 KiB
	maxPooledShift  = 25 // 32 MiB
	maxPooledBuffer = 1 << maxPooledShift
	pooledClasses   = 2*(maxPooledShift-minPooledShift) + 1
)

// classSize is the capacity of buffers of class i.
func classSize(i int) int {
	if i%2 == 0 {
		return 1 << (minPooledShift + i/2)
	}
	return 3 << (minPooledShift + i/2 - 1)
}

// classFor is the smallest class whose buffers hold n bytes, or -1 when n
// is over maxPooledBuffer.
func classFor(n int) int {
	if n <= 1<<minPooledShift {
		return 0
	}
	if n > maxPooledBuffer {
		return -1
	}
	k := bits.Len(uint(n - 1)) // 1<<(k-1) < n <= 1<<k
	if n <= 3<<(k-2) {
		return 2*(k-minPooledShift) - 1
	}
	return 2 * (k - minPooledShift)
}

// classOf is the largest class a buffer of capacity c can serve, or -1.
func classOf(c int) int {
	if c < 1<<minPooledShift || c > maxPooledBuffer {
		return -1
	}
	k := bits.Len(uint(c)) - 1 // 1<<k <= c < 1<<(k+1)
	if k > minPooledShift-1 && k < maxPooledShift && c >= 3<<(k-1) {
		return 2*(k-minPooledShift) + 1
	}
	return 2 * (k - minPooledShift)
}

// bufferPool hands out byte buffers for request and reply bodies, by size
// class, so neither a 1 KiB upload nor a 4 MiB chunk allocates (and later
// has the collector clear) its own.
type bufferPool struct{ classes [pooledClasses]sync.Pool }

// get returns an empty buffer with room for at least n bytes (n at most
// maxPooledBuffer; a larger n gets a fresh buffer the caller grows).
func (bp *bufferPool) get(n int) *bytes.Buffer {
	i := classFor(n)
	if i < 0 {
		return new(bytes.Buffer)
	}
	if b, ok := bp.classes[i].Get().(*bytes.Buffer); ok {
		return b
	}
	b := new(bytes.Buffer)
	b.Grow(classSize(i))
	return b
}

// put returns b for reuse, unless it is too small or too large to keep.
func (bp *bufferPool) put(b *bytes.Buffer) {
	i := classOf(b.Cap())
	if i < 0 {
		return
	}
	b.Reset()
	bp.classes[i].Put(b)
}

// alloc returns n bytes of room in b, which keeps them (b.Grow).
func alloc(b *bytes.Buffer, n int) []byte {
	b.Grow(n)
	return b.AvailableBuffer()[:n]
}

// appendJSONString appends s as encoding/json quotes it. Plain printable
// ASCII is copied as is; anything else (escapes, HTML characters that
// encoding/json writes as \u00XX, other UTF-8) goes through encoding/json
// so the output stays byte for byte the same.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, err := json.Marshal(s)
			if err != nil { // a string always encodes; keep the reply well formed
				return append(b, `""`...)
			}
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
