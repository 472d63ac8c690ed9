package wal

import (
	"sync"
	"testing"

	"weedfs.dev/weed/raft/raftpb"
)

// BenchmarkAppend: one 64-byte entry per Append, each fsynced.
func BenchmarkAppend(b *testing.B) {
	w := mustOpen(b, b.TempDir(), Options{})
	defer w.Close()
	data := make([]byte, 64)
	syncs := w.Stats().Syncs
	b.ResetTimer()
	for i := 1; i <= b.N; i++ {
		if err := w.Append([]*raftpb.Entry{{Index: uint64(i), Term: 1, Data: data}}); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	reportRates(b, w, syncs)
}

// BenchmarkAppendConcurrent16: 16 appenders of one 64-byte entry each; they
// take consecutive indexes in turn and share fsyncs (group commit).
func BenchmarkAppendConcurrent16(b *testing.B) {
	const appenders = 16
	w := mustOpen(b, b.TempDir(), Options{})
	defer w.Close()
	data := make([]byte, 64)
	syncs := w.Stats().Syncs
	var order sync.Mutex
	next := uint64(1)
	var wg sync.WaitGroup
	b.ResetTimer()
	for g := 0; g < appenders; g++ {
		n := b.N / appenders
		if g < b.N%appenders {
			n++
		}
		wg.Add(1)
		go func(n int) {
			defer wg.Done()
			for range n {
				// The same two steps as Append, with the index taken in
				// write order.
				order.Lock()
				bt, err := encodeBatch([]*raftpb.Entry{{Index: next, Term: 1, Data: data}}, nil)
				if err != nil {
					order.Unlock()
					b.Error(err)
					return
				}
				next++
				w.mu.Lock()
				seq, err := w.write(bt)
				order.Unlock()
				if err == nil {
					err = w.waitDurable(seq)
				}
				w.mu.Unlock()
				if err != nil {
					b.Error(err)
					return
				}
			}
		}(n)
	}
	wg.Wait()
	b.StopTimer()
	reportRates(b, w, syncs)
}

func reportRates(b *testing.B, w *WAL, syncsBefore uint64) {
	sec := b.Elapsed().Seconds()
	if sec == 0 {
		return
	}
	syncs := w.Stats().Syncs - syncsBefore
	b.ReportMetric(float64(b.N)/sec, "appends/s")
	b.ReportMetric(float64(syncs)/sec, "syncs/s")
	b.ReportMetric(float64(b.N)/float64(max(syncs, 1)), "appends/sync")
}

// BenchmarkEntriesFromDisk: a follower catching up reads 1 MiB batches of
// 64-byte entries that are no longer cached.
func BenchmarkEntriesFromDisk(b *testing.B) {
	opts := Options{CacheBytes: 1}
	w := mustOpen(b, b.TempDir(), opts)
	defer w.Close()
	const total = 100000
	data := make([]byte, 64)
	batch := make([]*raftpb.Entry, 0, 1000)
	for i := uint64(1); i <= total; i++ {
		batch = append(batch, &raftpb.Entry{Index: i, Term: 1, Data: data})
		if len(batch) == cap(batch) {
			if err := w.Append(batch); err != nil {
				b.Fatal(err)
			}
			batch = make([]*raftpb.Entry, 0, 1000)
		}
	}
	b.ResetTimer()
	read := 0
	for i := 0; i < b.N; i++ {
		lo := uint64(1 + (i*16384)%(total-16384))
		ents, err := w.Entries(lo, total+1, 1<<20)
		if err != nil {
			b.Fatal(err)
		}
		read += len(ents)
	}
	b.ReportMetric(float64(read)/b.Elapsed().Seconds(), "entries/s")
}

// BenchmarkOpen: replaying a log of 100,000 64-byte entries.
func BenchmarkOpen(b *testing.B) {
	dir := b.TempDir()
	w := mustOpen(b, dir, Options{SegmentSize: 1 << 20})
	data := make([]byte, 64)
	const total = 100000
	for i := uint64(1); i <= total; i += 1000 {
		batch := make([]*raftpb.Entry, 0, 1000)
		for j := i; j < i+1000; j++ {
			batch = append(batch, &raftpb.Entry{Index: j, Term: 1, Data: data})
		}
		if err := w.Append(batch); err != nil {
			b.Fatal(err)
		}
	}
	w.Close()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		w := mustOpen(b, dir, Options{SegmentSize: 1 << 20})
		if li, _ := w.LastIndex(); li != total {
			b.Fatalf("last %d", li)
		}
		w.Close()
	}
	b.ReportMetric(total*float64(b.N)/b.Elapsed().Seconds(), "entries/s")
}
