package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"weedfs.dev/weed/filer"
)

// Bench runs the shared benchmarks against stores made by newStore:
//
//	Create16   creates by 16 goroutines (entries with two chunks), creates/s
//	Lookup     FindEntry of random entries among 10,000, one goroutine
//	Lookup16   the same from 16 goroutines
//	List100k   a folder of 100,000 entries listed page by page (limit
//	           1000); one op is the whole folder
func Bench(b *testing.B, newStore NewStore) {
	b.Run("Create16", func(b *testing.B) { benchCreate(b, newStore(b)) })
	b.Run("Lookup", func(b *testing.B) { benchLookup(b, newStore(b), 1) })
	b.Run("Lookup16", func(b *testing.B) { benchLookup(b, newStore(b), 16) })
	b.Run("List100k", func(b *testing.B) { benchList(b, newStore(b)) })
}

func benchCreate(b *testing.B, s filer.Store) {
	const workers = 16
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > int64(b.N) {
					return
				}
				e := sample(fmt.Sprintf("/bench/f%08d", i))
				if err := s.InsertEntry(context.Background(), e); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "creates/s")
}

func benchLookup(b *testing.B, s filer.Store, workers int) {
	const n = 10_000
	insertMany(b, s, "/look", names("f", n))
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(b.N) {
				p := fmt.Sprintf("/look/f%05d", rand.IntN(n))
				if _, err := s.FindEntry(context.Background(), p); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "lookups/s")
}

func benchList(b *testing.B, s filer.Store) {
	const n, page = 100_000, 1000
	insertMany(b, s, "/list", names("f", n))
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		got, last := 0, ""
		for {
			k := 0
			l, err := s.ListDirectory(context.Background(), "/list", last, false, "", page, func(*filer.Entry) bool {
				k++
				return true
			})
			if err != nil {
				b.Fatal(err)
			}
			got += k
			if k < page {
				break
			}
			last = l
		}
		if got != n {
			b.Fatalf("listed %d of %d", got, n)
		}
	}
	b.ReportMetric(float64(n*b.N)/time.Since(start).Seconds(), "entries/s")
}
