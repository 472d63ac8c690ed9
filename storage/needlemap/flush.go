package needlemap

import "slices"

// garbageDiv: when more than 1/garbageDiv of the arenas' bytes belong to
// rewritten blocks, everything is rewritten into fresh arenas, which bounds
// the waste at about 0.6 bytes a needle.
const garbageDiv = 16

// flush merges the overflow into the frozen blocks and frees it. Late keys
// of a volume are mostly recent, so only the few blocks they fall into are
// rewritten (at the end of the arenas; their old bytes become garbage),
// and the write lock the Volume holds meanwhile is short. Many keys, or
// too much garbage, make it rewrite everything instead (rebuild).
func (m *Map) flush() {
	keys := m.sortedOverflow()
	f := &m.frozen
	old := f.index
	if touched(old, keys) > old.len()/4 {
		m.rebuild()
		return
	}
	nidx := newBlockIndex(old.len() + old.len()/64 + 16)
	var buf, merged []entry
	j := 0
	for bi := range old.len() {
		r := old.ref(bi)
		end := len(keys)
		if bi+1 < old.len() {
			n, _ := slices.BinarySearch(keys[j:], old.refs[bi+1].first)
			end = j + n
		}
		if end == j {
			nidx.add(r)
			continue
		}
		buf = f.entries(r, buf[:0])
		size, _ := keysSize(buf)
		f.garbage += size + r.n*slotBytes
		merged = merged[:0]
		for _, e := range buf {
			for ; j < end && keys[j] < e.key; j++ {
				merged = append(merged, m.overflowEntry(keys[j]))
			}
			merged = append(merged, e)
		}
		for ; j < end; j++ {
			merged = append(merged, m.overflowEntry(keys[j]))
		}
		// Balanced parts, so a block that gained one key becomes two of
		// about 64 with room for more, not one of 128 and one of 1.
		parts := (len(merged) + blockLen - 1) / blockLen
		for p := range parts {
			nidx.add(f.encode(merged[p*len(merged)/parts : (p+1)*len(merged)/parts]))
		}
	}
	f.index = nidx
	f.n += len(keys)
	m.overflow = nil
	if f.garbage > (f.keys.bytes()+f.slots.bytes())/garbageDiv {
		m.rebuild()
	}
}

// touched counts the blocks the sorted keys fall into.
func touched(x blockIndex, keys []uint64) int {
	n, last := 0, -2
	for _, k := range keys {
		if bi := max(x.search(k), 0); bi != last {
			n, last = n+1, bi
		}
	}
	return n
}

// rebuild merges the overflow (if any) and the frozen blocks into fresh
// arenas, full blocks of blockLen entries, dropping all garbage.
// O(frozen + overflow).
func (m *Map) rebuild() {
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
