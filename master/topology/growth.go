package topology

import (
	"fmt"
	"maps"
	"slices"

	"weedfs.dev/weed/storage/superblock"
)

// GrowthCount is how many volumes to grow when a layout has no writable
// volume left, as SeaweedFS does: 7 for one copy, 6 for two, 3 for three,
// 1 otherwise.
func GrowthCount(p superblock.ReplicaPlacement) int {
	switch p.CopyCount() {
	case 1:
		return 7
	case 2:
		return 6
	case 3:
		return 3
	}
	return 1
}

// planner places copies on a frozen view of the topology, counting the
// slots its earlier choices already used.
type planner struct {
	t    *Topology
	dt   string
	used map[*node]int
}

func (p *planner) free(n *node) int { return max(0, n.free(p.dt)-p.used[n]) }

func (p *planner) freeNodes(r *rack) int {
	c := 0
	for _, n := range r.nodes {
		if p.free(n) > 0 {
			c++
		}
	}
	return c
}

func (p *planner) rackFree(r *rack) int {
	s := 0
	for _, n := range r.nodes {
		s += p.free(n)
	}
	return s
}

func (p *planner) dcFree(dc *dataCenter) int {
	s := 0
	for _, r := range dc.racks {
		s += p.rackFree(r)
	}
	return s
}

// pick chooses k distinct items at random, weighted by weight (items of
// weight 0 are never chosen). It returns nil if fewer than k qualify.
func pick[T any](t *Topology, items []T, weight func(T) int, k int) []T {
	pool := slices.Clone(items)
	weights := make([]int, len(pool))
	total, n := 0, 0
	for i, it := range pool {
		weights[i] = weight(it)
		total += weights[i]
		if weights[i] > 0 {
			n++
		}
	}
	if n < k {
		return nil
	}
	out := make([]T, 0, k)
	for len(out) < k {
		r := t.intN(total)
		for i, w := range weights {
			if r < w {
				out = append(out, pool[i])
				total -= w
				weights[i] = 0
				break
			}
			r -= w
		}
	}
	return out
}

func sortedDCs(t *Topology) []*dataCenter {
	return sortedValues(t.dcs)
}

func sortedValues[V any](m map[string]V) []V {
	out := make([]V, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, m[k])
	}
	return out
}

// PlanGrowth chooses servers for count new volumes of the option's layout,
// each set satisfying the placement: element 0 is the main copy, then z
// copies on other servers of its rack, y on other racks of its data
// center (one per rack), x in other data centers (one per data center).
// Planned sets use distinct slots. When fewer than count sets fit, it
// returns those that fit and an error wrapping ErrNoFreeSlots; an unknown
// data center, rack or node in the option gives its own error.
//
// A count of 0 only checks the data center, rack and node constraints.
// Planning reserves nothing: the caller serializes growth and registers
// each allocated volume (AddVolume) before planning again.
func (t *Topology) PlanGrowth(o WriteOption, count int) ([][]Location, error) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if err := t.checkConstraints(o); err != nil {
		return nil, err
	}
	p := &planner{t: t, dt: NormalizeDiskType(o.DiskType), used: map[*node]int{}}
	var plans [][]Location
	for len(plans) < count {
		nodes, ok := p.planOne(o)
		if !ok {
			return plans, fmt.Errorf("topology: %d of %d volumes of %d copies for %s: %w",
				len(plans), count, o.Placement.CopyCount(), o, ErrNoFreeSlots)
		}
		set := make([]Location, len(nodes))
		for i, n := range nodes {
			p.used[n]++
			set[i] = n.location()
		}
		plans = append(plans, set)
	}
	return plans, nil
}

func (t *Topology) checkConstraints(o WriteOption) error {
	if o.DataCenter != "" && t.dcs[o.DataCenter] == nil {
		return fmt.Errorf("topology: data center %s not found: %w", o.DataCenter, ErrUnknownDataCenter)
	}
	if o.Rack != "" {
		found := false
		for _, dc := range t.dcs {
			if r := dc.racks[o.Rack]; r != nil && (o.DataCenter == "" || dc.name == o.DataCenter) {
				found = true
			}
		}
		if !found {
			return fmt.Errorf("topology: rack %s not found: %w", o.Rack, ErrUnknownRack)
		}
	}
	if o.DataNode != "" {
		n := t.nodes[o.DataNode]
		if n == nil || (o.DataCenter != "" && n.dcName() != o.DataCenter) || (o.Rack != "" && n.rackName() != o.Rack) {
			return fmt.Errorf("topology: data node %s not found: %w", o.DataNode, ErrUnknownDataNode)
		}
	}
	return nil
}

// planOne places the copies of one volume.
func (p *planner) planOne(o WriteOption) ([]*node, bool) {
	x := int(o.Placement.DiffDataCenter)
	y := int(o.Placement.DiffRack)
	z := int(o.Placement.SameRack)

	// A rack can be the main one when z+1 of its servers have room (and
	// the asked-for server is one of them).
	mainRackOK := func(r *rack) bool {
		if o.Rack != "" && r.name != o.Rack {
			return false
		}
		if o.DataNode != "" {
			n := r.nodes[o.DataNode]
			if n == nil || p.free(n) == 0 {
				return false
			}
		}
		return p.freeNodes(r) >= z+1
	}
	racksWithRoom := func(dc *dataCenter) int {
		c := 0
		for _, r := range dc.racks {
			if p.freeNodes(r) > 0 {
				c++
			}
		}
		return c
	}
	dcs := sortedDCs(p.t)
	dcsWithRoom := 0
	for _, dc := range dcs {
		if p.dcFree(dc) > 0 {
			dcsWithRoom++
		}
	}
	if dcsWithRoom < x+1 {
		return nil, false
	}
	mainDCs := pick(p.t, dcs, func(dc *dataCenter) int {
		if o.DataCenter != "" && dc.name != o.DataCenter {
			return 0
		}
		if racksWithRoom(dc) < y+1 || !slices.ContainsFunc(sortedValues(dc.racks), mainRackOK) {
			return 0
		}
		return p.dcFree(dc)
	}, 1)
	if mainDCs == nil {
		return nil, false
	}
	mainDC := mainDCs[0]
	racks := sortedValues(mainDC.racks)
	mainRack := pick(p.t, racks, func(r *rack) int {
		if !mainRackOK(r) {
			return 0
		}
		return p.rackFree(r)
	}, 1)[0]

	rackNodes := sortedValues(mainRack.nodes)
	var mainNode *node
	if o.DataNode != "" {
		mainNode = mainRack.nodes[o.DataNode]
	} else {
		mainNode = pick(p.t, rackNodes, p.free, 1)[0]
	}
	chosen := []*node{mainNode}
	chosen = append(chosen, pick(p.t, rackNodes, func(n *node) int {
		if n == mainNode {
			return 0
		}
		return p.free(n)
	}, z)...)

	otherRacks := pick(p.t, racks, func(r *rack) int {
		if r == mainRack {
			return 0
		}
		return p.rackFree(r)
	}, y)
	for _, r := range otherRacks {
		chosen = append(chosen, pick(p.t, sortedValues(r.nodes), p.free, 1)[0])
	}

	otherDCs := pick(p.t, dcs, func(dc *dataCenter) int {
		if dc == mainDC {
			return 0
		}
		return p.dcFree(dc)
	}, x)
	if len(otherDCs) < x {
		return nil, false
	}
	for _, dc := range otherDCs {
		var all []*node
		for _, r := range sortedValues(dc.racks) {
			all = append(all, sortedValues(r.nodes)...)
		}
		chosen = append(chosen, pick(p.t, all, p.free, 1)[0])
	}
	return chosen, true
}

// AddVolume records that the server at url now holds volume v (a volume
// growth just allocated), so it takes writes before the server's next
// heartbeat repeats it.
func (t *Topology) AddVolume(url string, v VolumeInfo) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := t.nodes[url]
	if n == nil || !n.alive {
		return fmt.Errorf("topology: add volume %d on %s: %w", v.ID, url, ErrUnknownDataNode)
	}
	v.DiskType = NormalizeDiskType(v.DiskType)
	v.TTL = normalizeTTL(v.TTL)
	var res HeartbeatResult
	t.putReplica(n, v, &res)
	if len(res.Duplicates) > 0 {
		return fmt.Errorf("topology: add volume %d on %s: %w", v.ID, url, ErrDuplicateVolume)
	}
	return nil
}

// FreeSlots returns the free volume slots of a disk type on live nodes.
func (t *Topology) FreeSlots(diskType string) int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	dt := NormalizeDiskType(diskType)
	s := 0
	for _, n := range t.nodes {
		s += n.free(dt)
	}
	return s
}
