package topology

import (
	"fmt"

	"weedfs.dev/weed/storage/needle"
	"weedfs.dev/weed/storage/superblock"
)

// WriteOption says which layout a write goes to and where it may land.
type WriteOption struct {
	Collection string
	Placement  superblock.ReplicaPlacement
	TTL        needle.TTL
	DiskType   string // any spelling; normalized here
	// Optional constraints: the chosen volume (or every new volume, in
	// growth) must have its main copy in this data center, rack, node.
	DataCenter, Rack, DataNode string
}

// Key returns the layout the option writes to.
func (o WriteOption) Key() LayoutKey {
	return LayoutKey{Collection: o.Collection, Placement: o.Placement, TTL: normalizeTTL(o.TTL), DiskType: NormalizeDiskType(o.DiskType)}
}

func (o WriteOption) String() string {
	return fmt.Sprintf("{collection:%q replication:%s ttl:%q disk:%s dataCenter:%q rack:%q dataNode:%q}",
		o.Collection, o.Placement, o.TTL, DiskTypeName(NormalizeDiskType(o.DiskType)), o.DataCenter, o.Rack, o.DataNode)
}

// matches reports whether some copy of the volume satisfies the option's
// location constraints.
func (o WriteOption) matches(reps []*node) bool {
	if o.DataCenter == "" && o.Rack == "" && o.DataNode == "" {
		return true
	}
	for _, n := range reps {
		if (o.DataCenter == "" || n.dcName() == o.DataCenter) &&
			(o.Rack == "" || n.rackName() == o.Rack) &&
			(o.DataNode == "" || n.url == o.DataNode) {
			return true
		}
	}
	return false
}

// PickForWrite picks a random writable volume of the option's layout and
// returns its id and locations. ErrNoWritable means the caller should grow
// the layout (or answer 503 while growth runs).
func (t *Topology) PickForWrite(o WriteOption) (uint32, []Location, error) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	l := t.layouts[o.Key()]
	if l == nil || len(l.writable) == 0 {
		return 0, nil, fmt.Errorf("topology: %s: %w", o, ErrNoWritable)
	}
	var id uint32
	if o.DataCenter == "" && o.Rack == "" && o.DataNode == "" {
		id = l.writable[t.intN(len(l.writable))]
	} else {
		// Reservoir sampling over the volumes with a copy where asked.
		seen := 0
		for _, v := range l.writable {
			if o.matches(l.replicas[v]) {
				seen++
				if t.intN(seen) == 0 {
					id = v
				}
			}
		}
		if seen == 0 {
			return 0, nil, fmt.Errorf("topology: %s: %w", o, ErrNoWritable)
		}
	}
	return id, locations(l.replicas[id]), nil
}

func locations(reps []*node) []Location {
	out := make([]Location, len(reps))
	for i, n := range reps {
		out[i] = n.location()
	}
	return out
}

// Lookup returns the live locations of volume id. A non-empty collection
// must match the volume's.
func (t *Topology) Lookup(id uint32, collection string) ([]Location, error) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	l := t.byVolume[id]
	if l == nil || (collection != "" && l.key.Collection != collection) {
		return nil, fmt.Errorf("topology: volume id %d: %w", id, ErrVolumeNotFound)
	}
	return locations(l.replicas[id]), nil
}

// LayoutVolume is the state of one volume in its layout.
type LayoutVolume struct {
	ID       uint32
	Key      LayoutKey
	Replicas int
	Writable bool
	Crowded  bool
	ReadOnly bool
	Full     bool
}

// VolumeState returns the layout state of volume id.
func (t *Topology) VolumeState(id uint32) (LayoutVolume, bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	l := t.byVolume[id]
	if l == nil {
		return LayoutVolume{}, false
	}
	_, w := l.pos[id]
	return LayoutVolume{ID: id, Key: l.key, Replicas: len(l.replicas[id]), Writable: w,
		Crowded: l.crowded[id], ReadOnly: l.readOnly[id], Full: l.full[id]}, true
}

// NeedsGrowth reports whether the layout should grow: no writable volume
// is left, or every writable one is crowded.
func (t *Topology) NeedsGrowth(key LayoutKey) bool {
	t.mu.RLock()
	defer t.mu.RUnlock()
	l := t.layouts[key]
	return l == nil || len(l.writable) <= len(l.crowded)
}

// WritableCount returns how many volumes of the layout take writes.
func (t *Topology) WritableCount(key LayoutKey) int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if l := t.layouts[key]; l != nil {
		return len(l.writable)
	}
	return 0
}
