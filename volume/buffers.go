package volume

import (
	"bytes"
	"encoding/json"
	"sync"
	"unicode/utf8"
)

// maxPooledBuffer is the largest buffer kept for reuse: a rare huge
// upload should not pin its memory for ever.
const maxPooledBuffer = 1 << 20

// bufferPool hands out byte buffers for request bodies, so small uploads
// do not each allocate (and later collect) their own.
type bufferPool struct{ p sync.Pool }

func (bp *bufferPool) get() *bytes.Buffer {
	if b, ok := bp.p.Get().(*bytes.Buffer); ok {
		return b
	}
	return new(bytes.Buffer)
}

func (bp *bufferPool) put(b *bytes.Buffer) {
	if b.Cap() > maxPooledBuffer {
		return
	}
	b.Reset()
	bp.p.Put(b)
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
