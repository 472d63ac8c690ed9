package snapshots

import (
	"io"
	"testing"
)

// BenchmarkSnapshotSaveAndLatest: a 16 MiB snapshot written in 4 KiB pieces
// and made durable, then opened (checksummed) and read back.
func BenchmarkSnapshotSaveAndLatest(b *testing.B) {
	s, err := Open(b.TempDir(), 2)
	if err != nil {
		b.Fatal(err)
	}
	piece := make([]byte, 4096)
	const pieces = 4096
	b.SetBytes(pieces * int64(len(piece)))
	for i := 0; i < b.N; i++ {
		sink, err := s.Create(testMeta(uint64(i+1), 1))
		if err != nil {
			b.Fatal(err)
		}
		for range pieces {
			if _, err := sink.Write(piece); err != nil {
				b.Fatal(err)
			}
		}
		if err := sink.Close(); err != nil {
			b.Fatal(err)
		}
		_, r, err := s.Latest()
		if err != nil {
			b.Fatal(err)
		}
		if n, err := io.Copy(io.Discard, r); err != nil || n != pieces*int64(len(piece)) {
			b.Fatalf("read back %d, %v", n, err)
		}
		r.Close()
	}
}
