package volume

import (
	"net/http"
	"syscall"

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

// placementJSON is SeaweedFS's ReplicaPlacement JSON (zero fields left out).
type placementJSON struct {
	SameRackCount       int `json:"node,omitempty"`
	DiffRackCount       int `json:"rack,omitempty"`
	DiffDataCenterCount int `json:"dc,omitempty"`
}

type ttlJSON struct {
	Count byte `json:"Count"`
	Unit  byte `json:"Unit"`
}

// VolumeStatus is a volume in /status and the master's /vol/status.
type VolumeStatus struct {
	ID                uint32        `json:"Id"`
	Size              uint64        `json:"Size"`
	ReplicaPlacement  placementJSON `json:"ReplicaPlacement"`
	TTL               ttlJSON       `json:"Ttl"`
	DiskType          string        `json:"DiskType"`
	DiskID            uint32        `json:"DiskId"`
	Collection        string        `json:"Collection"`
	Version           uint32        `json:"Version"`
	FileCount         uint64        `json:"FileCount"`
	DeleteCount       uint64        `json:"DeleteCount"`
	DeletedByteCount  uint64        `json:"DeletedByteCount"`
	ReadOnly          bool          `json:"ReadOnly"`
	CompactRevision   uint32        `json:"CompactRevision"`
	ModifiedAtSecond  int64         `json:"ModifiedAtSecond"`
	RemoteStorageName string        `json:"RemoteStorageName"`
}

func volumeStatus(i storage.VolumeInfo) VolumeStatus {
	return VolumeStatus{
		ID:   i.ID,
		Size: uint64(i.Size),
		ReplicaPlacement: placementJSON{
			SameRackCount:       int(i.Placement.SameRack),
			DiffRackCount:       int(i.Placement.DiffRack),
			DiffDataCenterCount: int(i.Placement.DiffDataCenter),
		},
		TTL:              ttlJSON{Count: i.TTL.Count, Unit: byte(i.TTL.Unit)},
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
		Volumes      []VolumeStatus
	}{Version: s.cfg.Version, DiskStatuses: []diskStatus{}, Volumes: []VolumeStatus{}}
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
