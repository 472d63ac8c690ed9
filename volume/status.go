package volume

import (
	"net/http"
	"syscall"

	"weedfs.dev/weed/client"
	"weedfs.dev/weed/storage"
)

// diskStatus is one data folder in /status, as SeaweedFS reports it.
type diskStatus struct {
	Dir         string  `json:"dir"`
	All         uint64  `json:"all"`
	Used        uint64  `json:"used"`
	Free        uint64  `json:"free"`
	PercentFree float32 `json:"percent_free"`
	PercentUsed float32 `json:"percent_used"`
}

func volumeStatus(i storage.VolumeInfo) client.VolumeStatus {
	return client.VolumeStatus{
		ID:   i.ID,
		Size: uint64(i.Size),
		ReplicaPlacement: client.PlacementStatus{
			SameRack:       int(i.Placement.SameRack),
			DiffRack:       int(i.Placement.DiffRack),
			DiffDataCenter: int(i.Placement.DiffDataCenter),
		},
		TTL:              client.TTLStatus{Count: int(i.TTL.Count), Unit: int(i.TTL.Unit)},
		DiskType:         "hdd",
		Collection:       i.Collection,
		Version:          uint32(i.Version),
		FileCount:        i.FileCount,
		DeleteCount:      i.DeleteCount,
		DeletedByteCount: i.DeletedByteCount,
		ReadOnly:         i.ReadOnly,
		CompactRevision:  uint32(i.CompactionRevision),
		ModifiedAtSecond: i.ModifiedAt.Unix(),
	}
}

func (s *Server) handleStatus(w http.ResponseWriter, r *http.Request) {
	reply := struct {
		Version      string
		DiskStatuses []diskStatus
		Volumes      []client.VolumeStatus
	}{Version: s.cfg.Version, DiskStatuses: []diskStatus{}, Volumes: []client.VolumeStatus{}}
	for _, l := range s.store.Locations() {
		reply.DiskStatuses = append(reply.DiskStatuses, statDisk(l.Dir))
	}
	for _, v := range s.store.Volumes() {
		reply.Volumes = append(reply.Volumes, volumeStatus(v.Info()))
	}
	writeJSON(w, r, http.StatusOK, reply)
}

func statDisk(dir string) diskStatus {
	d := diskStatus{Dir: dir}
	var st syscall.Statfs_t
	if syscall.Statfs(dir, &st) != nil {
		return d
	}
	d.All = st.Blocks * uint64(st.Bsize)
	d.Free = st.Bfree * uint64(st.Bsize)
	d.Used = d.All - d.Free
	if d.All > 0 {
		d.PercentFree = float32(float64(d.Free) / float64(d.All) * 100)
		d.PercentUsed = float32(float64(d.Used) / float64(d.All) * 100)
	}
	return d
}
