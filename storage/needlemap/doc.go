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
// # Layout: about 9.3 bytes a needle
//
// The memory of this map is what limits how many needles a volume server
// holds (SeaweedFS spends 16+ bytes a needle, Haystack about 10). Keys of
// one volume come from a global increasing sequencer, so they arrive mostly
// increasing with small gaps. The map has four parts:
//
//   - Frozen blocks of up to blockLen (128) entries, sorted and not
//     overlapping, packed back to back in an arena of 256 KiB chunks. A
//     block stores each needle's offset and size at a fixed place, so a
//     put over an existing key or a delete rewrites 8 bytes in place, and
//     the keys as varint deltas from the block's first key, which lives in
//     the block index (layout below).
//   - The block index: per block its first key u64 and its place u64
//     (chunk<<40 | offset<<8 | n), in one array, plus a sparse array of
//     every 4th first key. A lookup binary-searches the sparse array (small
//     enough to stay in the CPU cache), reads one cache line of index, scans
//     at most 127 one-byte deltas, then reads the slot.
//   - The tail: the newest keys above every frozen key, up to 2*blockLen
//     entries in a sorted slice; when full, its lower half is sealed into
//     a block. The unsealed upper half absorbs keys that arrive a little
//     late and a stray key far above the sequence.
//   - The overflow: a Go map of keys that arrived late (below the largest
//     frozen key, in no block). When it reaches max(4096, frozen/256) keys
//     it is merged into the blocks by rewriting them (O(n), so amortised
//     at most 256 entry copies per late key).
//
// A block of n entries in the arena:
//
//	| bytes      | field                                                  |
//	|------------|--------------------------------------------------------|
//	| 0 .. 8n-1  | n slots: offset u32 LE, size u32 LE (bit 31: deleted)  |
//	| 8n ..      | n-1 uvarints: key[i] - key[i-1] for i = 1..n-1         |
//
// Bytes per needle at 10 million needles (gaps 1..8, 1% late keys):
//
//	| what                      | bytes/needle | why                                       |
//	|---------------------------|-------------:|-------------------------------------------|
//	| offset + size slot        |        8     | needed to find and size the needle        |
//	| key delta                 |        0.99  | gaps < 128 fit one uvarint byte; the      |
//	|                           |              | first key of a block lives in the index   |
//	| (both, in the arena)      |       (8.96) | 99.6% of the keys are in blocks           |
//	| block index + sparse      |        0.17  | 16+2 bytes per 128-entry block, plus the  |
//	|                           |              | slack of slices grown by append           |
//	| late keys not yet merged  |        0.15  | 38,523 keys × ~40 bytes of Go map         |
//	|                           |              | (bound: n/256 keys)                       |
//	| arena chunk ends, tail    |        0.04  | < one block per 256 KiB chunk, 256 keys   |
//	| sum (arena+index+late+end)|        9.32  |                                           |
//	| measured from the heap    |        9.28  | BenchmarkMapMemory10M                     |
//
// (BenchmarkMapLayout10M prints the parts.)
//
// Gaps of 128 or more take 2..10 delta bytes, and a key pattern that is
// mostly late keys costs merges; both keep working, only slower or larger.
//
// Deleted needles stay in the map with their last offset and size (bit 31
// of the stored size marks them), so a read of deleted data can find them;
// only compaction (a new map) drops them. This is also why a stored size is
// below 2^31: needle sizes are int32 on disk, and a .idx size with bit 31
// set (the tombstone 0xFFFFFFFF among them) is a delete.
package needlemap
