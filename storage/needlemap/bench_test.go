package needlemap

import (
	"container/heap"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"weedfs.dev/weed/storage/idx"
)

// lateKey is a key held back to arrive out of order.
type lateKey struct{ at, key uint64 }

type lateHeap []lateKey

func (h lateHeap) Len() int           { return len(h) }
func (h lateHeap) Less(i, j int) bool { return h[i].at < h[j].at }
func (h lateHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *lateHeap) Push(x any)        { *h = append(*h, x.(lateKey)) }
func (h *lateHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// volumeKeys returns n distinct keys in the order a volume sees them: from
// a shared sequencer, increasing with random gaps of 1..8, except that 1%
// arrive late, after up to 100,000 later keys (batch reservations written
// later, replicated writes arriving late).
func volumeKeys(n int, seed uint64) []uint64 {
	r := rand.New(rand.NewPCG(seed, 42))
	out := make([]uint64, 0, n)
	var late lateHeap
	var head uint64
	for i := uint64(0); len(out)+len(late) < n; i++ {
		head += 1 + r.Uint64N(8)
		if r.IntN(100) == 0 {
			heap.Push(&late, lateKey{at: i + 1 + r.Uint64N(100_000), key: head})
		} else {
			out = append(out, head)
		}
		for len(late) > 0 && late[0].at <= i {
			out = append(out, heap.Pop(&late).(lateKey).key)
		}
	}
	for len(late) > 0 {
		out = append(out, heap.Pop(&late).(lateKey).key)
	}
	return out
}

func build(keys []uint64) *Map {
	m := New()
	for i, k := range keys {
		m.Set(k, uint32(i)+1, uint32(k&0xffff))
	}
	return m
}

func heapAlloc() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// BenchmarkMapMemory10M reports the heap a map of 10 million needles holds.
func BenchmarkMapMemory10M(b *testing.B) {
	const n = 10_000_000
	keys := volumeKeys(n, 1)
	b.ResetTimer()
	var perNeedle float64
	for range b.N {
		before := heapAlloc()
		m := build(keys)
		after := heapAlloc()
		if m.Len() != n {
			b.Fatalf("Len = %d", m.Len())
		}
		perNeedle = float64(after-before) / n
		runtime.KeepAlive(m)
	}
	b.ReportMetric(perNeedle, "bytes/needle")
}

// BenchmarkMapLayout10M reports where the bytes of a 10-million-needle map
// go, to check the table in doc.go: arena (slots and key deltas), block
// index, and keys waiting in the overflow.
func BenchmarkMapLayout10M(b *testing.B) {
	const n = 10_000_000
	keys := volumeKeys(n, 1)
	b.ResetTimer()
	for range b.N {
		m := build(keys)
		b.ReportMetric(float64(m.frozen.keys.used())/n, "keys-B/needle")
		b.ReportMetric(float64(m.frozen.slots.used())/n, "slots-B/needle")
		b.ReportMetric(float64(m.frozen.keys.bytes()+m.frozen.slots.bytes())/n, "arenas-held-B/needle")
		b.ReportMetric(float64(m.frozen.index.bytes())/n, "index-B/needle")
		b.ReportMetric(float64(m.Bytes())/n, "Bytes()-B/needle")
		b.ReportMetric(float64(len(m.overflow)), "overflow-keys")
		b.ReportMetric(float64(len(m.tail)), "tail-keys")
	}
}

// BenchmarkGet reports random lookups of existing keys a second, one
// goroutine.
func BenchmarkGet(b *testing.B) {
	for _, bc := range []struct {
		name string
		n    int
	}{{"1M", 1_000_000}, {"10M", 10_000_000}} {
		b.Run(bc.name, func(b *testing.B) {
			keys := volumeKeys(bc.n, 2)
			m := build(keys)
			r := rand.New(rand.NewPCG(3, 3))
			probe := make([]uint64, 1<<20)
			for i := range probe {
				probe[i] = keys[r.IntN(len(keys))]
			}
			defer lockThread()()
			b.ResetTimer()
			start, startCPU := time.Now(), threadCPU()
			for i := range b.N {
				if _, ok := m.Get(probe[i&(len(probe)-1)]); !ok {
					b.Fatal("missing key")
				}
			}
			cpu := threadCPU() - startCPU
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "lookups/s")
			if cpu > 0 {
				b.ReportMetric(float64(b.N)/cpu.Seconds(), "lookups/cpu-s")
			}
		})
	}
}

// BenchmarkLoadIdx10M writes a 10-million-entry .idx once and times Load
// over the file.
func BenchmarkLoadIdx10M(b *testing.B) {
	const n = 10_000_000
	keys := volumeKeys(n, 4)
	r := rand.New(rand.NewPCG(5, 5))
	buf := make([]byte, 0, n*idx.EntrySize)
	for i, k := range keys {
		e := idx.Entry{Key: k, Offset: uint32(i) + 1, Size: uint32(k & 0xffff)}
		if i > 0 && r.IntN(50) == 0 { // 2% deletes of an earlier key
			e = idx.Entry{Key: keys[r.IntN(i)], Offset: uint32(i) + 1, Size: idx.Tombstone}
		}
		buf = e.Append(buf)
	}
	name := filepath.Join(b.TempDir(), "10m.idx")
	if err := os.WriteFile(name, buf, 0o644); err != nil {
		b.Fatal(err)
	}
	buf, keys = nil, nil
	b.SetBytes(n * idx.EntrySize)
	defer lockThread()()
	b.ResetTimer()
	startCPU := threadCPU()
	for range b.N {
		f, err := os.Open(name)
		if err != nil {
			b.Fatal(err)
		}
		m, err := Load(f)
		f.Close()
		if err != nil {
			b.Fatal(err)
		}
		if s := m.Stats(); s.FileCount+s.DeletedCount < n {
			b.Fatalf("loaded %+v", s)
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/load")
	b.ReportMetric((threadCPU()-startCPU).Seconds()/float64(b.N), "cpu-s/load")
}

// BenchmarkSet reports the cost of one Set in three key patterns.
func BenchmarkSet(b *testing.B) {
	b.Run("increasing", func(b *testing.B) {
		m := New()
		var k uint64
		for i := range b.N {
			k += 1 + uint64(i&7)
			m.Set(k, uint32(i), 100)
		}
	})
	b.Run("volume", func(b *testing.B) {
		keys := volumeKeys(max(b.N, 1), 6)
		m := New()
		b.ResetTimer()
		for i, k := range keys {
			m.Set(k, uint32(i), 100)
		}
	})
	// Keys of a volume in random order (a worst case: volumes see keys
	// mostly in order), and keys spread over all 64 bits (custom fids).
	b.Run("shuffled", func(b *testing.B) {
		keys := volumeKeys(max(b.N, 1), 9)
		r := rand.New(rand.NewPCG(7, 7))
		r.Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
		m := New()
		b.ResetTimer()
		for i, k := range keys {
			m.Set(k, uint32(i), 100)
		}
	})
	b.Run("random64", func(b *testing.B) {
		r := rand.New(rand.NewPCG(7, 7))
		keys := make([]uint64, b.N)
		for i := range keys {
			keys[i] = r.Uint64()
		}
		m := New()
		b.ResetTimer()
		for i, k := range keys {
			m.Set(k, uint32(i), 100)
		}
	})
	b.Run("overwrite", func(b *testing.B) {
		keys := volumeKeys(1_000_000, 8)
		m := build(keys)
		b.ResetTimer()
		for i := range b.N {
			m.Set(keys[(i*7919)%len(keys)], uint32(i), 100)
		}
	})
}
