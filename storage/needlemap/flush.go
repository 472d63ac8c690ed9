package needlemap

import "slices"

// flush merges the overflow into the frozen blocks by rewriting them into a
// fresh arena, full blocks of blockLen entries, and frees the overflow.
// O(frozen + overflow); see minFlush and flushDiv for how often it runs.
func (m *Map) flush() {
	keys := m.sortedOverflow()
	nf := frozen{index: newBlockIndex((m.frozen.n+len(keys))/blockLen + 1)}
	buf := make([]entry, 0, blockLen)
	emit := func(e entry) bool {
		buf = append(buf, e)
		if len(buf) == blockLen {
			nf.add(buf)
			buf = buf[:0]
		}
		return true
	}
	j := 0
	m.frozen.each(func(e entry) bool {
		for ; j < len(keys) && keys[j] < e.key; j++ {
			emit(m.overflowEntry(keys[j]))
		}
		return emit(e)
	})
	for ; j < len(keys); j++ {
		emit(m.overflowEntry(keys[j]))
	}
	if len(buf) > 0 {
		nf.add(buf)
	}
	m.frozen = nf
	m.overflow = nil
}

func (m *Map) sortedOverflow() []uint64 {
	if len(m.overflow) == 0 {
		return nil
	}
	keys := make([]uint64, 0, len(m.overflow))
	for k := range m.overflow {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func (m *Map) overflowEntry(key uint64) entry {
	v := m.overflow[key]
	return entry{key: key, offset: uint32(v >> 32), size: uint32(v)}
}

// Ascend calls fn for every key in increasing order, deleted ones
// included, until fn returns false. fn must not change the map. It
// allocates only a sorted copy of the (small) overflow's keys.
func (m *Map) Ascend(fn func(key uint64, v Value) bool) {
	keys := m.sortedOverflow()
	j := 0
	call := func(e entry) bool { return fn(e.key, e.value()) }
	if !m.frozen.each(func(e entry) bool {
		for ; j < len(keys) && keys[j] < e.key; j++ {
			if !call(m.overflowEntry(keys[j])) {
				return false
			}
		}
		return call(e)
	}) {
		return
	}
	for ; j < len(keys); j++ {
		if !call(m.overflowEntry(keys[j])) {
			return
		}
	}
	for _, e := range m.tail {
		if !call(e) {
			return
		}
	}
}
