package topology

import "slices"

// layout tracks the volumes of one LayoutKey and which may take writes.
type layout struct {
	key    LayoutKey
	copies int
	// replicas lists the live nodes holding each volume, sorted by URL.
	replicas map[uint32][]*node
	// Invariant: writable holds exactly the volumes with copies live
	// replicas, none read-only and none full; pos[v] is v's index in it.
	writable []uint32
	pos      map[uint32]int
	crowded  map[uint32]bool // writable volumes at or above the crowded size
	readOnly map[uint32]bool
	full     map[uint32]bool
}

func newLayout(key LayoutKey) *layout {
	return &layout{
		key: key, copies: key.Placement.CopyCount(),
		replicas: map[uint32][]*node{}, pos: map[uint32]int{},
		crowded: map[uint32]bool{}, readOnly: map[uint32]bool{}, full: map[uint32]bool{},
	}
}

func (l *layout) setWritable(id uint32, on bool) {
	i, in := l.pos[id]
	switch {
	case on && !in:
		l.pos[id] = len(l.writable)
		l.writable = append(l.writable, id)
	case !on && in:
		last := l.writable[len(l.writable)-1]
		l.writable[i] = last
		l.pos[last] = i
		l.writable = l.writable[:len(l.writable)-1]
		delete(l.pos, id)
	}
}

// addReplica records that live node n holds volume id of this layout.
func (t *Topology) addReplica(n *node, id uint32) {
	l := t.byVolume[id]
	if l == nil {
		key := n.volumes[id].Key()
		l = t.layouts[key]
		if l == nil {
			l = newLayout(key)
			t.layouts[key] = l
		}
		t.byVolume[id] = l
	}
	reps := l.replicas[id]
	i, found := slices.BinarySearchFunc(reps, n.url, func(m *node, url string) int {
		switch {
		case m.url < url:
			return -1
		case m.url > url:
			return 1
		}
		return 0
	})
	if !found {
		l.replicas[id] = slices.Insert(reps, i, n)
	}
	t.refresh(id)
}

// removeReplica forgets that node n holds volume id.
func (t *Topology) removeReplica(n *node, id uint32) {
	l := t.byVolume[id]
	if l == nil {
		return
	}
	l.replicas[id] = slices.DeleteFunc(l.replicas[id], func(m *node) bool { return m == n })
	t.refresh(id)
}

// refresh recomputes the state of volume id in its layout from what its
// live replicas reported, and drops it when no replica is left.
func (t *Topology) refresh(id uint32) {
	l := t.byVolume[id]
	if l == nil {
		return
	}
	reps := l.replicas[id]
	if len(reps) == 0 {
		l.setWritable(id, false)
		delete(l.replicas, id)
		delete(l.crowded, id)
		delete(l.readOnly, id)
		delete(l.full, id)
		delete(t.byVolume, id)
		if len(l.replicas) == 0 {
			delete(t.layouts, l.key)
		}
		return
	}
	readOnly := t.marks[id]
	var size uint64
	for _, n := range reps {
		v := n.volumes[id]
		readOnly = readOnly || v.ReadOnly
		size = max(size, v.Size)
	}
	full := t.sizeLimit > 0 && size >= t.sizeLimit
	setFlag(l.readOnly, id, readOnly)
	setFlag(l.full, id, full)
	enough := len(reps) == l.copies || (t.asMin && len(reps) > l.copies)
	writable := enough && !readOnly && !full
	l.setWritable(id, writable)
	setFlag(l.crowded, id, writable && t.sizeLimit > 0 && size >= t.crowdedLimit)
}

func setFlag(m map[uint32]bool, id uint32, on bool) {
	if on {
		m[id] = true
	} else {
		delete(m, id)
	}
}

// SetReadOnlyMark applies an operator's read-only mark (replicated through
// master/state) to the writable lists.
func (t *Topology) SetReadOnlyMark(id uint32, readOnly bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	setFlag(t.marks, id, readOnly)
	t.refresh(id)
}
