// Package needlemap is a volume's in-memory index: needle key -> (offset,
// size) in the .dat file, so that a read is one map lookup and one disk
// read. It owns the compact in-memory layout, the SeaweedFS counters beside
// it (Stats) and the replay of a .idx stream into a map (Load, LoadAt).
//
// It never touches the .dat file, never writes a .idx (the Volume appends
// idx entries itself; the entry format belongs to storage/idx), never logs
// and keeps no package-level state.
//
// # Concurrency
//
// A Map has no lock of its own. Any number of goroutines may call Get, Len,
// Stats and Ascend at once; Set and Delete need exclusive access. The Volume
// holds a sync.RWMutex: read lock for lookups, write lock for changes.
// Ascend's callback must not change the map.
//
// # Layout: about 8.9 bytes a needle
//
// The memory of this map is what limits how many needles a volume server
// holds (SeaweedFS spends 16+ bytes a needle, Haystack about 10). Keys of
// one volume come from a global increasing sequencer, so they arrive mostly
// increasing with small gaps. The map has four parts:
//
//   - Frozen blocks of up to blockLen (128) entries, sorted and not
//     overlapping. A block is two runs of bytes in two arenas (append-only
//     chunks of up to 256 KiB): its slots, offset and size at fixed places,
//     so a put over an existing key or a delete rewrites 8 bytes in place;
//     and its keys, relative to the block's first key (which lives in the
//     block index), as a bitmap when they are dense and as uvarint deltas
//     otherwise, whichever is smaller. Keys and index of 10 million
//     needles take about 8 MB, which can stay in a server CPU's last-level
//     cache while the slots (80 MB) cannot; on a machine whose cache other
//     work shares, both miss.
//   - The block index: per block its first key and the places of its two
//     runs (24 bytes), plus a sparse array of every 4th first key. A lookup
//     binary-searches the sparse array, reads one cache line of index,
//     tests one bit and counts the bits below it (or scans at most 127
//     deltas), then reads the slot. The slot's line is requested before
//     the keys are read, at the place an even spread of keys predicts, so
//     the two cache misses overlap.
//   - The tail: the newest keys above every frozen key, up to 2*blockLen
//     entries in a sorted slice; when full, its lower half is sealed into
//     a block. The unsealed upper half absorbs keys that arrive a little
//     late and a stray key far above the sequence.
//   - The overflow: a Go map of keys that arrived late (below the largest
//     frozen key, in no block). When it reaches max(4096, frozen/256) keys
//     it is merged into the blocks. If the keys fall into at most a quarter
//     of the blocks (late keys are mostly recent), only those blocks are
//     rewritten, at the end of the arenas; otherwise, or once more than
//     1/16 of the arenas is such garbage, all blocks are rewritten into
//     fresh arenas (O(n), so amortised at most 256 entry copies per late
//     key). Either runs under the Volume's write lock.
//
// A block of n entries:
//
//	| arena | bytes     | field                                                   |
//	|-------|-----------|---------------------------------------------------------|
//	| slots | 0 .. 8n-1 | n × (offset u32 LE, size u32 LE with bit 31 = deleted)  |
//	| keys  | 0         | bitmap: words u8                                        |
//	|       | 1 ..      | words × u64 LE; bit j set when first+j is a key         |
//	| keys  | 0 ..      | deltas: n-1 uvarints, key[i] - key[i-1], i = 1..n-1     |
//	| index | 0 .. 7    | first key u64                                           |
//	|       | 8 .. 15   | keyChunk<<40 + keyOff<<8 + bitmap<<7 + (n-1), u64       |
//	|       | 16 .. 23  | slotChunk<<32 + slotOff, u64                            |
//
// Bytes per needle at 10 million needles (gaps 1..8, 1% late keys), from
// BenchmarkMapLayout10M and BenchmarkMapMemory10M:
//
//	| what                     | bytes/needle | why                                        |
//	|--------------------------|-------------:|--------------------------------------------|
//	| slots                    |        7.97  | 8 bytes for the 99.6% of keys in blocks     |
//	| keys                     |        0.60  | bitmap of ~580 bits per 128 keys (1 byte a  |
//	|                          |              | key as deltas); first key in the index      |
//	| block index + sparse     |        0.23  | 24+2 bytes per 128-entry block, + growth    |
//	| late keys not yet merged |        0.15  | 38,523 keys × ~40 bytes of Go map           |
//	|                          |              | (bound: n/256 keys)                         |
//	| arena chunk ends, tail   |      < 0.01  | 256 keys, the unused end of two chunks      |
//	| rewritten-block garbage  |        0     | here; bound: 1/16 of the arenas (0.54)      |
//	| measured from the heap   |        8.92  | HeapAlloc after GC, before/after building   |
//
// Gaps above 8 make deltas the smaller encoding (1 byte a key below 128,
// 2..10 bytes above), and a key pattern that is mostly late keys costs
// merges; both keep working, only larger or slower.
//
// Deleted needles stay in the map with their last offset and size (bit 31
// of the stored size marks them), so a read of deleted data can find them;
// only compaction (a new map) drops them. This is also why a stored size is
// below 2^31: needle sizes are int32 on disk, and a .idx size with bit 31
// set (the tombstone 0xFFFFFFFF among them) is a delete.
package needlemap
