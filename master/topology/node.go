package topology

import "time"

type dataCenter struct {
	name  string
	racks map[string]*rack
}

type rack struct {
	name  string
	dc    *dataCenter
	nodes map[string]*node // by URL
}

// node is a volume server.
type node struct {
	url, publicURL string
	rack           *rack
	lastSeen       time.Time
	alive          bool
	maxVolumes     map[string]int        // slots by normalized disk type
	counts         map[string]int        // volumes held, by disk type
	volumes        map[uint32]VolumeInfo // what the server reported
}

func (n *node) dcName() string   { return n.rack.dc.name }
func (n *node) rackName() string { return n.rack.name }

func (n *node) location() Location {
	return Location{URL: n.url, PublicURL: n.publicURL, DataCenter: n.dcName(), Rack: n.rackName()}
}

// free is the number of volumes of disk type dt the node can still take.
func (n *node) free(dt string) int {
	if !n.alive {
		return 0
	}
	return max(0, n.maxVolumes[dt]-n.counts[dt])
}

func (n *node) putVolume(v VolumeInfo) {
	if old, ok := n.volumes[v.ID]; ok {
		n.counts[old.DiskType]--
	}
	n.volumes[v.ID] = v
	n.counts[v.DiskType]++
}

func (n *node) dropVolume(id uint32) {
	if old, ok := n.volumes[id]; ok {
		n.counts[old.DiskType]--
		delete(n.volumes, id)
	}
}

// placeNode finds or creates the node at url and moves it under dcName/
// rackName when the server reports a new position.
func (t *Topology) placeNode(url, dcName, rackName string) (n *node, isNew bool) {
	n, ok := t.nodes[url]
	if ok && n.dcName() == dcName && n.rackName() == rackName {
		return n, false
	}
	dc := t.dcs[dcName]
	if dc == nil {
		dc = &dataCenter{name: dcName, racks: map[string]*rack{}}
		t.dcs[dcName] = dc
	}
	r := dc.racks[rackName]
	if r == nil {
		r = &rack{name: rackName, dc: dc, nodes: map[string]*node{}}
		dc.racks[rackName] = r
	}
	if ok {
		t.unlinkNode(n)
		n.rack = r
		r.nodes[url] = n
		return n, false
	}
	n = &node{url: url, rack: r, maxVolumes: map[string]int{}, counts: map[string]int{}, volumes: map[uint32]VolumeInfo{}}
	r.nodes[url] = n
	t.nodes[url] = n
	return n, true
}

// unlinkNode removes n from its rack, and empty racks and data centers.
func (t *Topology) unlinkNode(n *node) {
	r := n.rack
	delete(r.nodes, n.url)
	if len(r.nodes) == 0 {
		delete(r.dc.racks, r.name)
		if len(r.dc.racks) == 0 {
			delete(t.dcs, r.dc.name)
		}
	}
}
