package wal

import (
	"fmt"

	"weedfs.dev/weed/raft/raftpb"
)

// cacheItem is a decoded entry and its encoded size.
type cacheItem struct {
	e    *raftpb.Entry
	size int64
}

// loc says where the record of one entry is.
type loc struct {
	seg  *segment
	off  int64  // offset of the record header in seg
	size uint32 // payload bytes (the entry's encoded size)
	data uint32 // bytes of the entry's Data: what Entries' maxBytes counts
	term uint64
}

// memLog is the in-memory index of the log: the location and term of every
// held entry, the compaction mark, and decoded copies of the newest entries.
// Replay and the live WAL change it through the same methods, so what a
// restart rebuilds is what the running WAL held.
type memLog struct {
	mark mark // the log starts after mark.index; Term(mark.index) == mark.term
	// Invariant (once anchored): first == mark.index+1 between operations of
	// the live WAL; during replay first may run ahead of a mark that a later
	// recordCompact raises.
	first    uint64
	locs     []loc // locs[i] is entry first+i
	anchored bool  // first is known (an entry, or a reset, was seen)

	// Invariant: when len(cache) > 0, cache covers [cacheFirst, last()].
	cache      []cacheItem
	cacheFirst uint64
	cacheBytes int64
	cacheLimit int64
}

func (m *memLog) last() uint64 {
	if !m.anchored {
		return m.mark.index
	}
	return m.first + uint64(len(m.locs)) - 1
}

// term returns the term of index i if it is held (or is the mark).
func (m *memLog) term(i uint64) (uint64, bool) {
	if i == m.mark.index {
		return m.mark.term, true
	}
	if !m.anchored || i < m.first || i > m.last() {
		return 0, false
	}
	return m.locs[i-m.first].term, true
}

// addEntry applies an entry record: it appends e, or replaces the entry at
// e.Index and everything after it. It refuses what no valid history writes.
func (m *memLog) addEntry(e *raftpb.Entry, l loc) error {
	i := e.Index
	switch {
	case i <= m.mark.index:
		return fmt.Errorf("entry %d at or below the compaction point %d", i, m.mark.index)
	case !m.anchored:
		m.first, m.anchored = i, true
	case i > m.last()+1:
		return fmt.Errorf("entry %d leaves a gap after entry %d", i, m.last())
	case i < m.first:
		// Replay only: it replaces entries whose segments were deleted by a
		// compaction recorded later; the final check proves it.
		m.truncate(m.first)
		m.first = i
	default:
		m.truncate(i)
	}
	m.locs = append(m.locs, l)
	m.cachePush(e, int64(l.size))
	return nil
}

// truncate drops entry i and every entry after it.
func (m *memLog) truncate(i uint64) {
	if i > m.last() {
		return
	}
	if i < m.first {
		i = m.first
	}
	n := i - m.first
	clear(m.locs[n:])
	m.locs = m.locs[:n]
	if len(m.cache) > 0 {
		if i <= m.cacheFirst {
			m.dropCache()
		} else if keep := i - m.cacheFirst; keep < uint64(len(m.cache)) {
			for _, c := range m.cache[keep:] {
				m.cacheBytes -= c.size
			}
			clear(m.cache[keep:])
			m.cache = m.cache[:keep]
		}
	}
}

// compact drops the entries up to and including mk.index and moves the mark.
func (m *memLog) compact(mk mark) {
	if mk.index < m.mark.index {
		return
	}
	m.mark = mk
	if !m.anchored {
		return
	}
	if mk.index >= m.last() {
		m.resetTo(mk)
		return
	}
	if mk.index >= m.first {
		n := mk.index + 1 - m.first
		clear(m.locs[:n])
		m.locs = m.locs[n:]
		m.first = mk.index + 1
		if len(m.locs) < cap(m.locs)/4 {
			m.locs = append([]loc(nil), m.locs...) // release the dropped front
		}
	}
	for len(m.cache) > 0 && m.cacheFirst <= mk.index {
		m.popCache()
	}
}

// resetTo empties the log; it restarts after mk.
func (m *memLog) resetTo(mk mark) {
	m.mark = mk
	m.first, m.anchored = mk.index+1, true
	m.locs = nil
	m.dropCache()
}

// finish checks, after replay, that the held entries start right after the
// mark; it reports a hole as the indexes missing.
func (m *memLog) finish() error {
	if !m.anchored {
		m.resetTo(m.mark)
		return nil
	}
	if len(m.locs) > 0 && m.first > m.mark.index+1 {
		return fmt.Errorf("entries %d to %d are missing (log starts after %d)", m.mark.index+1, m.first-1, m.mark.index)
	}
	if len(m.locs) == 0 {
		m.first = m.mark.index + 1
	}
	return nil
}

func (m *memLog) cachePush(e *raftpb.Entry, size int64) {
	if len(m.cache) == 0 {
		m.cacheFirst = e.Index
	}
	m.cache = append(m.cache, cacheItem{e, size})
	m.cacheBytes += size
	for len(m.cache) > 1 && m.cacheBytes > m.cacheLimit {
		m.popCache()
	}
}

func (m *memLog) popCache() {
	m.cacheBytes -= m.cache[0].size
	m.cache[0] = cacheItem{}
	m.cache = m.cache[1:]
	m.cacheFirst++
}

func (m *memLog) dropCache() {
	m.cache, m.cacheBytes, m.cacheFirst = nil, 0, 0
}

// cached returns entry i when it is in the cache.
func (m *memLog) cached(i uint64) *raftpb.Entry {
	if len(m.cache) == 0 || i < m.cacheFirst || i >= m.cacheFirst+uint64(len(m.cache)) {
		return nil
	}
	return m.cache[i-m.cacheFirst].e
}
