package needlemap

import "slices"

// Flush policy of the overflow: it is merged into the blocks when it holds
// max(minFlush, frozen/flushDiv) keys, so a merge (O(n)) happens at most
// once per frozen/flushDiv out-of-order inserts and the overflow's memory
// stays a small fraction of the blocks'.
const (
	minFlush = 4096
	flushDiv = 256
)

// Map holds key -> Value for one volume in under 10 bytes a needle; doc.go
// explains the layout.
type Map struct {
	// Frozen blocks, sorted by key and not overlapping.
	// Invariant: every frozen key is < every key in tail.
	// Invariant: frozenMax is the largest frozen key when frozen.n > 0.
	frozen    frozen
	frozenMax uint64

	// tail collects keys above frozenMax, sorted. When it holds
	// 2*blockLen entries its lower half is sealed into a block: keeping the
	// newest blockLen keys unsealed absorbs keys that arrive a little late
	// (concurrent writers) and a stray key far above the sequence, which
	// would otherwise send every later key to the overflow.
	tail []entry

	// overflow holds keys below frozenMax that are in no block, as
	// offset<<32 | size. Nil when empty, so a flush frees its memory.
	overflow map[uint64]uint64

	// flushMin is minFlush; tests lower it to merge often.
	flushMin int

	stats Stats
}

// New returns an empty map.
func New() *Map {
	return &Map{tail: make([]entry, 0, 2*blockLen), flushMin: minFlush}
}

// where says in which part of the map a key was found.
type where uint8

const (
	absent where = iota
	inTail
	inBlock
	inOverflow
)

// loc is where a key's entry lives, for in-place updates.
type loc struct {
	where where
	i     int    // tail index
	slot  []byte // the block slot
}

// find looks key up in every part of the map.
func (m *Map) find(key uint64) (entry, loc) {
	if n := len(m.tail); n > 0 && key >= m.tail[0].key {
		if key > m.tail[n-1].key { // the common append
			return entry{}, loc{i: n}
		}
		i, ok := slices.BinarySearchFunc(m.tail, key, func(e entry, k uint64) int {
			switch {
			case e.key < k:
				return -1
			case e.key > k:
				return 1
			}
			return 0
		})
		if ok {
			return m.tail[i], loc{where: inTail, i: i}
		}
		return entry{}, loc{i: i}
	}
	if slot, ok := m.frozen.find(key); ok {
		return readSlot(slot, key), loc{where: inBlock, slot: slot}
	}
	if len(m.overflow) > 0 {
		if v, ok := m.overflow[key]; ok {
			return entry{key: key, offset: uint32(v >> 32), size: uint32(v)}, loc{where: inOverflow}
		}
	}
	return entry{}, loc{}
}

// Get returns the value of key. A deleted needle is returned with
// ok == true and v.Deleted() == true.
func (m *Map) Get(key uint64) (v Value, ok bool) {
	e, l := m.find(key)
	if l.where == absent {
		return Value{}, false
	}
	return e.value(), true
}

// store writes a new stored size for a key found at l.
func (m *Map) store(key uint64, l loc, offset, size uint32) {
	switch l.where {
	case inTail:
		m.tail[l.i].offset, m.tail[l.i].size = offset, size
	case inBlock:
		writeSlot(l.slot, offset, size)
	case inOverflow:
		m.overflow[key] = uint64(offset)<<32 | uint64(size)
	}
}

// Set records that key's needle now lives at offset (8-byte units) with
// size. It returns the previous value, deleted or not, if there was one.
// A size above MaxSize is a delete at offset (see MaxSize).
func (m *Map) Set(key uint64, offset, size uint32) (old Value, existed bool) {
	if size > MaxSize {
		return m.Delete(key, offset)
	}
	m.stats.MaxKey = max(m.stats.MaxKey, key)
	m.stats.FileCount++
	m.stats.ContentSize += uint64(size)
	e, l := m.find(key)
	if l.where != absent {
		old = e.value()
		if !old.deleted {
			m.stats.DeletedCount++
			m.stats.DeletedSize += uint64(old.Size)
		} else {
			m.stats.Live++
		}
		m.store(key, l, offset, size)
		return old, true
	}
	m.stats.Live++
	m.insert(entry{key: key, offset: offset, size: size}, l.i)
	return Value{}, false
}

// insert adds a key that is in no part of the map; tailPos is where find
// would put it in the tail.
func (m *Map) insert(e entry, tailPos int) {
	if m.frozen.n > 0 && e.key < m.frozenMax {
		if m.overflow == nil {
			m.overflow = make(map[uint64]uint64)
		}
		m.overflow[e.key] = uint64(e.offset)<<32 | uint64(e.size)
		if len(m.overflow) >= max(m.flushMin, m.frozen.n/flushDiv) {
			m.flush()
		}
		return
	}
	if n := len(m.tail); n == 0 || e.key > m.tail[n-1].key {
		m.tail = append(m.tail, e)
	} else {
		m.tail = slices.Insert(m.tail, tailPos, e)
	}
	if len(m.tail) >= 2*blockLen {
		m.seal()
	}
}

// seal freezes the first blockLen entries of the tail into a block.
func (m *Map) seal() {
	full := m.tail[:blockLen]
	m.frozen.add(full)
	m.frozenMax = full[blockLen-1].key
	rest := copy(m.tail, m.tail[blockLen:])
	m.tail = m.tail[:rest]
}

// Delete marks key deleted, keeping its offset and size so a read of
// deleted data can still find it. tombstoneOffset, the position of the
// tombstone needle, is not kept: nothing needs it once the .idx has it.
// Deleting an absent or deleted key changes nothing but DeletedCount, as
// in SeaweedFS.
func (m *Map) Delete(key uint64, tombstoneOffset uint32) (old Value, existed bool) {
	m.stats.MaxKey = max(m.stats.MaxKey, key)
	m.stats.DeletedCount++
	e, l := m.find(key)
	if l.where == absent {
		return Value{}, false
	}
	old = e.value()
	if !old.deleted {
		m.stats.DeletedSize += uint64(old.Size)
		m.stats.Live--
		m.store(key, l, e.offset, e.size|deletedBit)
	}
	return old, true
}

// Len returns the number of keys held, deleted ones included.
func (m *Map) Len() int { return m.frozen.n + len(m.tail) + len(m.overflow) }

// overflowEntryBytes estimates what one overflow key costs in a Go map
// (16 bytes of key and value, control bytes, load-factor slack).
const overflowEntryBytes = 40

// Bytes estimates the memory the map holds, for status pages and metrics:
// the arenas and index exactly, the overflow by overflowEntryBytes a key.
func (m *Map) Bytes() int {
	return m.frozen.keys.bytes() + m.frozen.slots.bytes() + m.frozen.index.bytes() +
		cap(m.tail)*16 + len(m.overflow)*overflowEntryBytes
}

// Stats returns the counters; O(1).
func (m *Map) Stats() Stats { return m.stats }
