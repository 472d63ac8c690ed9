package needlemap

import "sort"

// Map holds key -> Value for one volume.
type Map struct {
	m     map[uint64]Value
	stats Stats
}

// New returns an empty map.
func New() *Map { return &Map{m: map[uint64]Value{}} }

// Get returns the value of key. A deleted needle is returned with
// ok == true and v.Deleted() == true.
func (m *Map) Get(key uint64) (v Value, ok bool) {
	v, ok = m.m[key]
	return v, ok
}

// Set records that key's needle now lives at offset (8-byte units) with
// size. It returns the previous value, deleted or not, if there was one.
// A size above MaxSize is a delete (see MaxSize).
func (m *Map) Set(key uint64, offset, size uint32) (old Value, existed bool) {
	if size > MaxSize {
		return m.Delete(key, offset)
	}
	m.stats.MaxKey = max(m.stats.MaxKey, key)
	old, existed = m.m[key]
	m.m[key] = Value{Offset: offset, Size: size}
	m.stats.FileCount++
	m.stats.ContentSize += uint64(size)
	if existed && !old.deleted {
		m.stats.DeletedCount++
		m.stats.DeletedSize += uint64(old.Size)
	} else {
		m.stats.Live++
	}
	return old, existed
}

// Delete marks key deleted, keeping its offset and size. tombstoneOffset,
// the position of the tombstone needle, is not needed by the map and only
// documents the call. Deleting an absent key stores nothing but is counted,
// as SeaweedFS counts it.
func (m *Map) Delete(key uint64, tombstoneOffset uint32) (old Value, existed bool) {
	m.stats.MaxKey = max(m.stats.MaxKey, key)
	m.stats.DeletedCount++
	old, existed = m.m[key]
	if existed && !old.deleted {
		m.stats.DeletedSize += uint64(old.Size)
		m.stats.Live--
		nv := old
		nv.deleted = true
		m.m[key] = nv
	}
	return old, existed
}

// Len returns the number of keys held, deleted ones included.
func (m *Map) Len() int { return len(m.m) }

// Stats returns the counters; O(1).
func (m *Map) Stats() Stats { return m.stats }

// Ascend calls fn for every key in increasing order, deleted ones
// included, until fn returns false.
func (m *Map) Ascend(fn func(key uint64, v Value) bool) {
	keys := make([]uint64, 0, len(m.m))
	for k := range m.m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	for _, k := range keys {
		if !fn(k, m.m[k]) {
			return
		}
	}
}
