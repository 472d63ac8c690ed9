package topology

import (
	"fmt"
	"maps"
	"slices"

	"weedfs.dev/weed/storage/superblock"
)

// ReplicaGap is a volume with fewer live copies than its placement asks
// (volume.fix.replication's work list).
type ReplicaGap struct {
	ID      uint32
	Key     LayoutKey
	Have    []Location // live copies, by URL
	Missing int
}

// UnderReplicated lists the volumes missing copies, by id.
func (t *Topology) UnderReplicated() []ReplicaGap {
	t.mu.RLock()
	defer t.mu.RUnlock()
	var out []ReplicaGap
	for _, id := range slices.Sorted(maps.Keys(t.byVolume)) {
		l := t.byVolume[id]
		if reps := l.replicas[id]; len(reps) < l.copies {
			out = append(out, ReplicaGap{ID: id, Key: l.key, Have: locations(reps), Missing: l.copies - len(reps)})
		}
	}
	return out
}

// PlanReplica chooses a live server with a free slot to receive one more
// copy of volume id, such that the copies can still form the placement:
// some copy can be the main one with at most z others in its rack, at most
// y other racks of its data center holding one copy each, and at most x
// other data centers holding one copy each. The choice is random, weighted
// by free slots. The caller copies the volume (VolumeCopy) and then calls
// AddVolume.
func (t *Topology) PlanReplica(id uint32) (Location, error) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	l := t.byVolume[id]
	if l == nil {
		return Location{}, fmt.Errorf("topology: volume id %d: %w", id, ErrVolumeNotFound)
	}
	have := l.replicas[id]
	if len(have) >= l.copies {
		return Location{}, fmt.Errorf("topology: volume %d has its %d copies: %w", id, l.copies, ErrNothingToFix)
	}
	set := make([]Location, len(have)+1)
	for i, n := range have {
		set[i] = n.location()
	}
	var candidates []*node
	for _, url := range slices.Sorted(maps.Keys(t.nodes)) {
		n := t.nodes[url]
		if n.free(l.key.DiskType) == 0 || slices.Contains(have, n) {
			continue
		}
		set[len(have)] = n.location()
		if FitsPlacement(set, l.key.Placement) {
			candidates = append(candidates, n)
		}
	}
	chosen := pick(t, candidates, func(n *node) int { return n.free(l.key.DiskType) }, 1)
	if chosen == nil {
		return Location{}, fmt.Errorf("topology: another copy of volume %d (%s): %w", id, l.key.Placement, ErrNoFreeSlots)
	}
	return chosen[0].location(), nil
}

// FitsPlacement reports whether the copies at set (distinct servers) are
// all or part of a valid placement of rp: with some copy as the main one,
// at most z others share its rack, at most y other racks of its data
// center hold one copy each, and at most x other data centers hold one
// copy each. With len(set) == rp.CopyCount() the bounds are met exactly.
func FitsPlacement(set []Location, rp superblock.ReplicaPlacement) bool {
	if len(set) > rp.CopyCount() {
		return false
	}
	for _, main := range set {
		if fitsWithMain(set, main, rp) {
			return true
		}
	}
	return len(set) == 0
}

func fitsWithMain(set []Location, main Location, rp superblock.ReplicaPlacement) bool {
	sameRack := -1 // main itself is counted once
	racks := map[string]int{}
	dcs := map[string]int{}
	for _, l := range set {
		switch {
		case l.DataCenter == main.DataCenter && l.Rack == main.Rack:
			sameRack++
		case l.DataCenter == main.DataCenter:
			racks[l.Rack]++
			if racks[l.Rack] > 1 {
				return false
			}
		default:
			dcs[l.DataCenter]++
			if dcs[l.DataCenter] > 1 {
				return false
			}
		}
	}
	return sameRack <= int(rp.SameRack) && len(racks) <= int(rp.DiffRack) && len(dcs) <= int(rp.DiffDataCenter)
}
