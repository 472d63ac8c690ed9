package idx

import (
	"bytes"
	"testing"
)

// BenchmarkIdxWalk walks a 10-million-entry .idx held in memory, so it
// measures decoding, not the disk; it reports entries per second.
func BenchmarkIdxWalk(b *testing.B) {
	const entries = 10_000_000
	buf := make([]byte, 0, entries*EntrySize)
	for i := 0; i < entries; i++ {
		buf = Entry{Key: uint64(i), Offset: uint32(i), Size: 1000}.Append(buf)
	}
	b.SetBytes(int64(len(buf)))
	b.ResetTimer()
	for b.Loop() {
		var n int
		var sum uint64
		err := Walk(bytes.NewReader(buf), func(e Entry) error {
			n++
			sum += e.Key
			return nil
		})
		if err != nil || n != entries {
			b.Fatal(n, err)
		}
	}
	b.ReportMetric(float64(entries)*float64(b.N)/b.Elapsed().Seconds(), "entries/s")
}
