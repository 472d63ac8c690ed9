package topology

import (
	"maps"
	"slices"
	"strconv"
	"strings"

	"weedfs.dev/weed/client"
)

// Info is the "Topology" object of /dir/status, with SeaweedFS's field
// names.
type Info struct {
	Max         int64            `json:"Max"`
	Free        int64            `json:"Free"`
	DataCenters []DataCenterInfo `json:"DataCenters"`
	Layouts     []LayoutInfo     `json:"Layouts"`
}

// DataCenterInfo is one data center in /dir/status.
type DataCenterInfo struct {
	ID    string     `json:"Id"`
	Racks []RackInfo `json:"Racks"`
}

// RackInfo is one rack in /dir/status.
type RackInfo struct {
	ID        string         `json:"Id"`
	DataNodes []DataNodeInfo `json:"DataNodes"`
}

// DataNodeInfo is one volume server in /dir/status.
type DataNodeInfo struct {
	URL       string `json:"Url"`
	PublicURL string `json:"PublicUrl"`
	Volumes   int64  `json:"Volumes"`
	EcShards  int64  `json:"EcShards"`
	Max       int64  `json:"Max"`
	VolumeIDs string `json:"VolumeIds"` // " 1-3 7", as SeaweedFS writes it
}

// LayoutInfo is one volume layout in /dir/status.
type LayoutInfo struct {
	Replication string   `json:"replication"`
	TTL         string   `json:"ttl"`
	Writables   []uint32 `json:"writables"`
	Collection  string   `json:"collection"`
	DiskType    string   `json:"diskType"`
}

// maxListedIDs caps the ids listed per disk in VolumeIds.
const maxListedIDs = 100

// UsedSize is the bytes held by the volumes of live servers, every replica
// counted (what their disks hold), for capacity reports such as a mount's
// statfs.
func (t *Topology) UsedSize() uint64 {
	t.mu.RLock()
	defer t.mu.RUnlock()
	var used uint64
	for _, n := range t.nodes {
		if !n.alive {
			continue
		}
		for _, v := range n.volumes {
			used += v.Size
		}
	}
	return used
}

// Info returns the /dir/status topology of live nodes, sorted by name.
func (t *Topology) Info() Info {
	t.mu.RLock()
	defer t.mu.RUnlock()
	var info Info
	for _, dc := range sortedDCs(t) {
		dci := DataCenterInfo{ID: dc.name}
		for _, r := range sortedValues(dc.racks) {
			ri := RackInfo{ID: r.name}
			for _, n := range sortedValues(r.nodes) {
				if !n.alive {
					continue
				}
				ni := DataNodeInfo{URL: n.url, PublicURL: n.publicURL, Volumes: int64(len(n.volumes))}
				for _, m := range n.maxVolumes {
					ni.Max += int64(m)
				}
				for _, dt := range slices.Sorted(maps.Keys(n.counts)) {
					var ids []uint32
					for id, v := range n.volumes {
						if v.DiskType == dt {
							ids = append(ids, id)
						}
					}
					if len(ids) > 0 {
						ni.VolumeIDs += " " + idRanges(ids)
					}
				}
				info.Max += ni.Max
				info.Free += int64(max(0, ni.Max-ni.Volumes))
				ri.DataNodes = append(ri.DataNodes, ni)
			}
			if len(ri.DataNodes) > 0 {
				dci.Racks = append(dci.Racks, ri)
			}
		}
		if len(dci.Racks) > 0 {
			info.DataCenters = append(info.DataCenters, dci)
		}
	}
	for _, l := range t.sortedLayouts() {
		li := LayoutInfo{
			Replication: l.key.Placement.String(), TTL: l.key.TTL.String(),
			Collection: l.key.Collection, DiskType: DiskTypeName(l.key.DiskType),
		}
		if len(l.writable) > 0 {
			li.Writables = slices.Sorted(slices.Values(l.writable))
		}
		info.Layouts = append(info.Layouts, li)
	}
	return info
}

func (t *Topology) sortedLayouts() []*layout {
	ls := slices.Collect(maps.Values(t.layouts))
	slices.SortFunc(ls, func(a, b *layout) int {
		if c := strings.Compare(a.key.Collection, b.key.Collection); c != 0 {
			return c
		}
		if c := int(a.key.Placement.Byte()) - int(b.key.Placement.Byte()); c != 0 {
			return c
		}
		if c := int(TTLToUint32(a.key.TTL)) - int(TTLToUint32(b.key.TTL)); c != 0 {
			return c
		}
		return strings.Compare(a.key.DiskType, b.key.DiskType)
	})
	return ls
}

// idRanges writes ids as SeaweedFS's status page does: the first 100 ids,
// sorted, runs as "a-b", separated by spaces, then " ..." if cut.
func idRanges(ids []uint32) string {
	slices.Sort(ids)
	cut := len(ids) > maxListedIDs
	if cut {
		ids = ids[:maxListedIDs]
	}
	var b strings.Builder
	for i := 0; i < len(ids); {
		j := i
		for j+1 < len(ids) && ids[j+1] == ids[j]+1 {
			j++
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(strconv.FormatUint(uint64(ids[i]), 10))
		if j > i {
			b.WriteByte('-')
			b.WriteString(strconv.FormatUint(uint64(ids[j]), 10))
		}
		i = j + 1
	}
	if cut {
		b.WriteString(" ...")
	}
	return b.String()
}

// VolumeMap is the "Volumes" object of /vol/status: data center -> rack
// -> node URL -> volumes.
type VolumeMap struct {
	Max         int64                                                  `json:"Max"`
	Free        int64                                                  `json:"Free"`
	DataCenters map[string]map[string]map[string][]client.VolumeStatus `json:"DataCenters"`
}

func volumeStatus(v VolumeInfo) client.VolumeStatus {
	return client.VolumeStatus{
		ID: v.ID, Size: v.Size,
		ReplicaPlacement: client.PlacementStatus{SameRack: int(v.Placement.SameRack), DiffRack: int(v.Placement.DiffRack), DiffDataCenter: int(v.Placement.DiffDataCenter)},
		TTL:              client.TTLStatus{Count: int(v.TTL.Count), Unit: int(v.TTL.Unit)},
		DiskType:         v.DiskType, DiskID: v.DiskID, Collection: v.Collection, Version: v.Version,
		FileCount: v.FileCount, DeleteCount: v.DeleteCount, DeletedByteCount: v.DeletedByteCount,
		ReadOnly: v.ReadOnly, CompactRevision: v.CompactRevision, ModifiedAtSecond: v.ModifiedAtSecond,
	}
}

// VolumeMap returns what /vol/status shows: every volume of every live node.
func (t *Topology) VolumeMap() VolumeMap {
	t.mu.RLock()
	defer t.mu.RUnlock()
	vm := VolumeMap{DataCenters: map[string]map[string]map[string][]client.VolumeStatus{}}
	for _, n := range t.nodes {
		if !n.alive {
			continue
		}
		racks := vm.DataCenters[n.dcName()]
		if racks == nil {
			racks = map[string]map[string][]client.VolumeStatus{}
			vm.DataCenters[n.dcName()] = racks
		}
		nodes := racks[n.rackName()]
		if nodes == nil {
			nodes = map[string][]client.VolumeStatus{}
			racks[n.rackName()] = nodes
		}
		vols := make([]client.VolumeStatus, 0, len(n.volumes))
		for _, id := range slices.Sorted(maps.Keys(n.volumes)) {
			vols = append(vols, volumeStatus(n.volumes[id]))
		}
		nodes[n.url] = vols
		var m int64
		for _, c := range n.maxVolumes {
			m += int64(c)
		}
		vm.Max += m
		vm.Free += max(0, m-int64(len(n.volumes)))
	}
	return vm
}
