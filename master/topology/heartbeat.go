package topology

import (
	"fmt"
	"maps"
	"net"
	"slices"
	"strconv"
	"time"

	"weedfs.dev/weed/pb"
	"weedfs.dev/weed/storage/superblock"
)

// HeartbeatResult says what a heartbeat changed.
type HeartbeatResult struct {
	URL string // the node's host:port
	// NewVolumes and DeletedVolumes are the ids whose locations changed on
	// this node (for pushing location updates to clients).
	NewVolumes, DeletedVolumes []uint32
	// Duplicates are ids the node reported that the master knows under
	// another collection, placement, TTL or disk type elsewhere; they are
	// not served from this node.
	Duplicates []uint32
	// Rejected are volumes with an impossible placement byte or TTL.
	Rejected []uint32
	// NeedFullReport: the master did not know the node (new leader, or it
	// was declared dead) and a delta was sent; ask for a full report.
	NeedFullReport bool
	// MaxFileKey is the highest needle key any server reported so far.
	MaxFileKey uint64
}

// ProcessHeartbeat applies a heartbeat received at now. A full report
// replaces what the node had; a delta adds and removes volumes.
func (t *Topology) ProcessHeartbeat(hb *pb.Heartbeat, now time.Time) (HeartbeatResult, error) {
	if hb.GetIp() == "" || hb.GetPort() == 0 || hb.GetPort() > 65535 {
		return HeartbeatResult{}, fmt.Errorf("topology: address %q port %d: %w", hb.GetIp(), hb.GetPort(), ErrBadHeartbeat)
	}
	url := net.JoinHostPort(hb.GetIp(), strconv.Itoa(int(hb.GetPort())))
	dcName, rackName := hb.GetDataCenter(), hb.GetRack()
	if dcName == "" {
		dcName = DefaultDataCenter
	}
	if rackName == "" {
		rackName = DefaultRack
	}
	res := HeartbeatResult{URL: url}

	t.mu.Lock()
	defer t.mu.Unlock()
	n, isNew := t.placeNode(url, dcName, rackName)
	n.publicURL = hb.GetPublicUrl()
	if n.publicURL == "" {
		n.publicURL = url
	}
	n.lastSeen = now
	if len(hb.GetDisks()) > 0 {
		clear(n.maxVolumes)
		for _, d := range hb.GetDisks() {
			n.maxVolumes[NormalizeDiskType(d.GetDiskType())] += int(d.GetMaxVolumeCount())
		}
	}
	t.maxKey = max(t.maxKey, hb.GetMaxFileKey())
	res.MaxFileKey = t.maxKey

	revived := !n.alive
	n.alive = true
	if hb.GetFull() {
		t.fullReport(n, hb.GetVolumes(), &res)
	} else {
		if isNew || revived {
			res.NeedFullReport = true
		}
		if revived {
			// What the node held before it stopped beating is the best
			// guess until its full report arrives.
			for _, id := range slices.Sorted(maps.Keys(n.volumes)) {
				if t.registerKnown(n, id, &res) {
					res.NewVolumes = append(res.NewVolumes, id)
				}
			}
		}
		t.deltaReport(n, hb.GetNewVolumes(), hb.GetDeletedVolumes(), &res)
	}
	return res, nil
}

// volumeInfo converts a reported volume; ok is false when its placement
// byte or TTL is impossible.
func volumeInfo(v *pb.VolumeInformation) (VolumeInfo, bool) {
	ttl, ok := TTLFromUint32(v.GetTtl())
	if !ok || v.GetReplicaPlacement() > 255 || v.GetId() == 0 {
		return VolumeInfo{}, false
	}
	return VolumeInfo{
		ID: v.GetId(), Size: v.GetSize(), Collection: v.GetCollection(),
		FileCount: v.GetFileCount(), DeleteCount: v.GetDeleteCount(), DeletedByteCount: v.GetDeletedByteCount(),
		ReadOnly: v.GetReadOnly(), Placement: superblock.PlacementFromByte(byte(v.GetReplicaPlacement())),
		TTL: ttl, Version: v.GetVersion(), CompactRevision: v.GetCompactRevision(),
		ModifiedAtSecond: v.GetModifiedAtSecond(), DiskType: NormalizeDiskType(v.GetDiskType()), DiskID: v.GetDiskId(),
	}, true
}

func shortInfo(v *pb.VolumeShortInformation) (VolumeInfo, bool) {
	return volumeInfo(&pb.VolumeInformation{
		Id: v.GetId(), Collection: v.GetCollection(), ReplicaPlacement: v.GetReplicaPlacement(),
		Version: v.GetVersion(), Ttl: v.GetTtl(), DiskType: v.GetDiskType(),
	})
}

func (t *Topology) fullReport(n *node, vols []*pb.VolumeInformation, res *HeartbeatResult) {
	reported := make(map[uint32]VolumeInfo, len(vols))
	for _, pv := range vols {
		v, ok := volumeInfo(pv)
		if !ok {
			res.Rejected = append(res.Rejected, pv.GetId())
			continue
		}
		reported[v.ID] = v
	}
	for _, id := range slices.Sorted(maps.Keys(n.volumes)) {
		if _, still := reported[id]; !still {
			t.removeReplica(n, id)
			n.dropVolume(id)
			res.DeletedVolumes = append(res.DeletedVolumes, id)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(reported)) {
		if t.putReplica(n, reported[id], res) {
			res.NewVolumes = append(res.NewVolumes, id)
		}
	}
}

func (t *Topology) deltaReport(n *node, added, deleted []*pb.VolumeShortInformation, res *HeartbeatResult) {
	for _, d := range deleted {
		id := d.GetId()
		if _, ok := n.volumes[id]; !ok {
			continue
		}
		t.removeReplica(n, id)
		n.dropVolume(id)
		res.DeletedVolumes = append(res.DeletedVolumes, id)
	}
	for _, a := range added {
		v, ok := shortInfo(a)
		if !ok {
			res.Rejected = append(res.Rejected, a.GetId())
			continue
		}
		if old, known := n.volumes[v.ID]; known && old.Key() == v.Key() {
			continue // sizes and counts of the full report stay
		}
		if t.putReplica(n, v, res) {
			res.NewVolumes = append(res.NewVolumes, v.ID)
		}
	}
}

// putReplica stores v on n and serves it from n unless its id belongs to
// another layout. It reports whether n became a new location of v.
func (t *Topology) putReplica(n *node, v VolumeInfo, res *HeartbeatResult) bool {
	old, had := n.volumes[v.ID]
	if had && old.Key() != v.Key() {
		t.removeReplica(n, v.ID) // the server changed the volume's layout
		had = false
	}
	n.putVolume(v)
	t.maxVID = max(t.maxVID, v.ID)
	if had && t.byVolume[v.ID] != nil && slices.Contains(t.byVolume[v.ID].replicas[v.ID], n) {
		t.refresh(v.ID) // new size or read-only state
		return false
	}
	return t.registerKnown(n, v.ID, res)
}

// registerKnown adds n as a location of a volume it holds, unless the id is
// served under another layout key.
func (t *Topology) registerKnown(n *node, id uint32, res *HeartbeatResult) bool {
	if l := t.byVolume[id]; l != nil && l.key != n.volumes[id].Key() {
		res.Duplicates = append(res.Duplicates, id)
		return false
	}
	t.addReplica(n, id)
	return true
}

// Expire marks nodes whose last heartbeat is older than timeout at now as
// dead: their volumes leave the layouts and lookups. It returns their URLs.
func (t *Topology) Expire(now time.Time, timeout time.Duration) []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var dead []string
	for _, url := range slices.Sorted(maps.Keys(t.nodes)) {
		n := t.nodes[url]
		if !n.alive || now.Sub(n.lastSeen) <= timeout {
			continue
		}
		n.alive = false
		for id := range n.volumes {
			t.removeReplica(n, id)
		}
		dead = append(dead, url)
	}
	return dead
}

// MaxVolumeID is the highest volume id any server reported: growth asks
// Raft for ids above it.
func (t *Topology) MaxVolumeID() uint32 {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.maxVID
}

// MaxFileKey is the highest needle key any server reported.
func (t *Topology) MaxFileKey() uint64 {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.maxKey
}
