// Package needlemap is a volume's in-memory index: needle key -> (offset,
// size) in the .dat file, so that a read is one map lookup and one disk
// read. It owns the compact in-memory layout, the SeaweedFS counters beside
// it (Stats) and the replay of a .idx stream into a map (Load).
//
// It never touches the .dat file, never writes a .idx (the Volume appends
// idx entries itself), never logs and keeps no package-level state.
//
// Concurrency: a Map is not locked. Many goroutines may call Get, Len,
// Stats and Ascend at once; Set and Delete need exclusive access (the
// Volume holds a sync.RWMutex: read lock for lookups, write lock for
// changes). Ascend's callback must not change the map.
package needlemap
