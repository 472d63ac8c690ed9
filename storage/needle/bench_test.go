package needle

import (
	"bytes"
	"fmt"
	"testing"
)

func benchNeedle(size int) *Needle {
	n := &Needle{Cookie: 0x0c18c0eb, ID: 1, Data: bytes.Repeat([]byte("0123456789abcdef"), size/16), AppendAtNs: 1}
	n.SetName([]byte("file.bin"))
	n.SetMime([]byte("application/octet-stream"))
	n.SetLastModified(1600000000)
	return n
}

func BenchmarkNeedleAppend(b *testing.B) {
	for _, size := range []int{1 << 10, 64 << 10, 1 << 20} {
		b.Run(fmt.Sprint(size), func(b *testing.B) {
			n := benchNeedle(size)
			buf := make([]byte, 0, size+256)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				var err error
				if buf, err = n.Append(buf[:0], Version3); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkNeedleDecode(b *testing.B) {
	for _, size := range []int{1 << 10, 64 << 10, 1 << 20} {
		b.Run(fmt.Sprint(size), func(b *testing.B) {
			rec, err := benchNeedle(size).Append(nil, Version3)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Decode(rec, Version3); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkScanner(b *testing.B) {
	var dat []byte
	const count = 10000
	for i := 0; i < count; i++ {
		n := benchNeedle(1 << 10)
		n.ID = uint64(i)
		dat, _ = n.Append(dat, Version3)
	}
	b.SetBytes(int64(len(dat)))
	for b.Loop() {
		s := NewScanner(bytes.NewReader(dat), 0, int64(len(dat)), Version3)
		got := 0
		for s.Next() {
			got++
		}
		if s.Err() != nil || got != count {
			b.Fatal(got, s.Err())
		}
	}
}
