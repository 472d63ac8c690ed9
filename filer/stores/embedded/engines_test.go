package embedded

import (
	"bytes"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	bolt "go.etcd.io/bbolt"
)

// The engine comparison behind the package's choice of Pebble: the raw
// engines with this package's key layout and 200-byte values, durable
// writes (bbolt: db.Batch group commit; Pebble: WAL sync per commit).
// Run: go test -run x -bench Engines -benchtime 2s ./filer/stores/embedded/

type rawEngine interface {
	put(k, v []byte) error
	get(k []byte) error
	// page reads up to n keys with prefix after start; returns the last.
	page(prefix, start []byte, n int) (last []byte, count int, err error)
	fill(keys [][]byte, v []byte) error
	close() error
}

var boltBucket = []byte("e")

type boltEngine struct{ db *bolt.DB }

func (e boltEngine) put(k, v []byte) error {
	return e.db.Batch(func(tx *bolt.Tx) error { return tx.Bucket(boltBucket).Put(k, v) })
}

func (e boltEngine) get(k []byte) error {
	return e.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(boltBucket).Get(k); v == nil {
			return fmt.Errorf("missing %q", k)
		}
		return nil
	})
}

func (e boltEngine) page(prefix, start []byte, n int) (last []byte, count int, err error) {
	err = e.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(boltBucket).Cursor()
		k, v := c.Seek(start)
		if bytes.Equal(k, start) {
			k, v = c.Next()
		}
		for ; k != nil && bytes.HasPrefix(k, prefix) && count < n; k, v = c.Next() {
			_ = append([]byte(nil), v...) // a store copies what it decodes
			last = append(last[:0], k...)
			count++
		}
		return nil
	})
	return last, count, err
}

func (e boltEngine) fill(keys [][]byte, v []byte) error {
	return e.db.Update(func(tx *bolt.Tx) error {
		for _, k := range keys {
			if err := tx.Bucket(boltBucket).Put(k, v); err != nil {
				return err
			}
		}
		return nil
	})
}

func (e boltEngine) close() error { return e.db.Close() }

type pebbleEngine struct{ db *pebble.DB }

func (e pebbleEngine) put(k, v []byte) error { return e.db.Set(k, v, pebble.Sync) }

func (e pebbleEngine) get(k []byte) error {
	_, c, err := e.db.Get(k)
	if err != nil {
		return err
	}
	return c.Close()
}

func (e pebbleEngine) page(prefix, start []byte, n int) (last []byte, count int, err error) {
	it, err := e.db.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
	if err != nil {
		return nil, 0, err
	}
	ok := it.SeekGE(start)
	if ok && bytes.Equal(it.Key(), start) {
		ok = it.Next()
	}
	for ; ok && count < n; ok = it.Next() {
		_ = append([]byte(nil), it.Value()...)
		last = append(last[:0], it.Key()...)
		count++
	}
	return last, count, it.Close()
}

func (e pebbleEngine) fill(keys [][]byte, v []byte) error {
	b := e.db.NewBatch()
	for _, k := range keys {
		if err := b.Set(k, v, nil); err != nil {
			return err
		}
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return err
	}
	return e.db.Flush()
}

func (e pebbleEngine) close() error { return e.db.Close() }

func openEngine(b *testing.B, kind string) rawEngine {
	dir := b.TempDir()
	switch kind {
	case "bbolt", "bbolt1ms":
		db, err := bolt.Open(dir+"/db", 0o600, nil)
		if err != nil {
			b.Fatal(err)
		}
		if kind == "bbolt1ms" {
			db.MaxBatchDelay = time.Millisecond
		}
		if err := db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucketIfNotExists(boltBucket); return err }); err != nil {
			b.Fatal(err)
		}
		return boltEngine{db}
	default:
		db, err := pebble.Open(dir, pebbleOptions(slog.New(slog.DiscardHandler)))
		if err != nil {
			b.Fatal(err)
		}
		return pebbleEngine{db}
	}
}

func BenchmarkEngines(b *testing.B) {
	val := bytes.Repeat([]byte("v"), 200)
	prefix := childrenPrefix("/bench")
	key := func(i int) []byte { return fmt.Appendf(append([]byte(nil), prefix...), "file%07d", i) }
	for _, kind := range []string{"bbolt", "bbolt1ms", "pebble"} {
		b.Run(kind+"/Create16", func(b *testing.B) {
			e := openEngine(b, kind)
			defer e.close()
			var next atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			start := time.Now()
			for range 16 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := next.Add(1); i <= int64(b.N); i = next.Add(1) {
						if err := e.put(key(int(i)), val); err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "creates/s")
		})
		if kind == "bbolt1ms" {
			continue // reads do not depend on the batch delay
		}
		const total = 100_000
		e := openEngine(b, kind)
		keys := make([][]byte, total)
		for i := range keys {
			keys[i] = key(i)
		}
		if err := e.fill(keys, val); err != nil {
			b.Fatal(err)
		}
		b.Run(kind+"/Lookup", func(b *testing.B) {
			for range b.N {
				if err := e.get(keys[rand.IntN(total)]); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(kind+"/List100k", func(b *testing.B) {
			for range b.N {
				start, got := prefix, 0
				for {
					last, n, err := e.page(prefix, start, 1000)
					if err != nil {
						b.Fatal(err)
					}
					got += n
					if n < 1000 {
						break
					}
					start = append([]byte(nil), last...)
				}
				if got != total {
					b.Fatalf("listed %d of %d", got, total)
				}
			}
		})
		if err := e.close(); err != nil {
			b.Fatal(err)
		}
	}
}
