package idx

import (
	"bytes"
	"os"
	"path/filepath"
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

// BenchmarkIdxWalkFile walks a 10-million-entry .idx file (160 MB) through
// os.File, as the needle map loads one at startup; the first iteration may
// include reading from disk, later ones from the page cache.
func BenchmarkIdxWalkFile(b *testing.B) {
	const entries = 10_000_000
	buf := make([]byte, 0, entries*EntrySize)
	for i := 0; i < entries; i++ {
		buf = Entry{Key: uint64(i), Offset: uint32(i), Size: 1000}.Append(buf)
	}
	path := filepath.Join(b.TempDir(), "big.idx")
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		b.Fatal(err)
	}
	buf = nil
	b.SetBytes(entries * EntrySize)
	b.ResetTimer()
	for b.Loop() {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		err = Walk(f, func(Entry) error { n++; return nil })
		f.Close()
		if err != nil || n != entries {
			b.Fatal(n, err)
		}
	}
	b.ReportMetric(float64(entries)*float64(b.N)/b.Elapsed().Seconds(), "entries/s")
}
