// Package embedded is the default filer.Store: a Pebble database in a
// folder of the filer's data directory, for a filer that keeps its
// namespace to itself.
//
// It owns the key layout (keys.go), the mapping of filer.Store calls onto
// Pebble batches and iterators, and transactions as indexed batches
// (tx.go). It never decides namespace rules (parents, conflicts) and never
// shares the database with another process.
//
// # Durability
//
// Every write call, and every CommitTx, is one Pebble batch committed with
// a WAL sync before it returns: an acknowledged write survives kill -9 and
// power loss (TestKill9 kills a writing process; TestPowerCut keeps only
// synced bytes, and fails if the sync is dropped). Concurrent commits share
// one fsync through Pebble's commit pipeline, which is what makes
// concurrent creates fast.
//
// # Why Pebble and not bbolt
//
// Both engines were measured with this package's key layout, 200-byte
// values and durable writes, on the 2-core test machine (shared with other
// work, so figures move by about 2x from run to run):
//
//	go test -run x -bench Engines -benchtime 2s ./filer/stores/embedded/
//
//	                     creates/s (16 goroutines)   lookup     list 100,000 (pages of 1000)
//	bbolt (db.Batch)            951 - 1,391           2 - 9 µs        22 - 63 ms
//	bbolt, MaxBatchDelay 1ms  3,511 - 7,065
//	Pebble (WAL sync)         8,892 - 18,318          5 - 8 µs        27 - 60 ms
//
// Reads are close (bbolt's mmapped B+tree is a little faster; Pebble
// needs its block cache, 64 MiB here, to keep up). Creates decide it:
// bbolt writes and fsyncs B+tree pages and a meta page per batch, and
// db.Batch must wait (MaxBatchDelay) to gather a batch, while Pebble
// appends to its WAL and groups concurrent syncs without waiting. Pebble
// also gives transactions that do not serialise the filer: an indexed
// batch reads its own writes over the database and holds no lock while
// the caller works, where a bbolt write transaction would hold the single
// writer lock (and block every other create) for the whole request.
//
// # Tuning
//
// Memtables are 64 MiB (Pebble's default is 4 MiB): a mount extracting a
// tar of small files saves each with its content inline, and 4 MiB
// memtables flushed several times a second, so flushes and the compactions
// behind them took about a quarter of the filer's CPU (measured with
// scripts/mount-tar-bench.sh). Up to two memtables (128 MiB) plus the
// 64 MiB block cache are what the store may hold in memory. Every level
// has a bloom filter (10 bits a key): a create looks up a path that does
// not exist yet, which without filters reads a block of every table that
// may hold it. Blocks are compressed (snappy) in the last level only:
// with compression on every level, the third extraction of Go's src into a
// mount spent 11.6% of the filer's CPU in compactions, mostly snappy, and
// 4.62 CPU-s in all; without it above the last level 0.5% and 4.29
// (the store takes more disk before data reaches the last level).
// KvScanKeys lists keys without copying values out, for the change feed.
//
// Through filer.Store (go test -run x -bench Store -benchtime 2s
// ./filer/stores/embedded/), entries with two chunks: 6,000 - 22,700
// creates/s from 16 goroutines, 100,000 - 400,000 lookups/s, a folder of
// 100,000 entries listed page by page in 0.14 - 0.6 s.
package embedded
