package client

// VolumeStatus is one volume copy as SeaweedFS's JSON names it: in a volume
// server's /status and, per data center, rack and server, in the master's
// /vol/status. Servers write it and clients read it with this one type.
type VolumeStatus struct {
	ID                uint32          `json:"Id"`
	Size              uint64          `json:"Size"`
	ReplicaPlacement  PlacementStatus `json:"ReplicaPlacement"`
	TTL               TTLStatus       `json:"Ttl"`
	DiskType          string          `json:"DiskType"`
	DiskID            uint32          `json:"DiskId"`
	Collection        string          `json:"Collection"`
	Version           uint32          `json:"Version"`
	FileCount         uint64          `json:"FileCount"`
	DeleteCount       uint64          `json:"DeleteCount"`
	DeletedByteCount  uint64          `json:"DeletedByteCount"`
	ReadOnly          bool            `json:"ReadOnly"`
	CompactRevision   uint32          `json:"CompactRevision"`
	ModifiedAtSecond  int64           `json:"ModifiedAtSecond"`
	RemoteStorageName string          `json:"RemoteStorageName"`
}

// PlacementStatus is a replica placement as SeaweedFS's JSON writes it
// (zero counts left out).
type PlacementStatus struct {
	SameRack       int `json:"node,omitempty"`
	DiffRack       int `json:"rack,omitempty"`
	DiffDataCenter int `json:"dc,omitempty"`
}

// TTLStatus is a TTL as SeaweedFS's JSON writes it (the unit as its code).
type TTLStatus struct {
	Count int `json:"Count"`
	Unit  int `json:"Unit"`
}
