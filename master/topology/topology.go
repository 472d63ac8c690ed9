package topology

import (
	"errors"
	"math/bits"
	"math/rand/v2"
	"sync"
	"sync/atomic"

	"weedfs.dev/weed/storage/needle"
	"weedfs.dev/weed/storage/superblock"
)

// Errors of the package; HTTP handlers map them to status codes.
var (
	ErrBadHeartbeat      = errors.New("topology: bad heartbeat")
	ErrUnknownDataCenter = errors.New("topology: data center not found")     // 400
	ErrUnknownRack       = errors.New("topology: rack not found")            // 400
	ErrUnknownDataNode   = errors.New("topology: data node not found")       // 400
	ErrNoFreeSlots       = errors.New("topology: no free volumes left")      // 406
	ErrNoWritable        = errors.New("topology: no writable volumes")       // grow, or 503
	ErrVolumeNotFound    = errors.New("topology: volume not found")          // 404
	ErrUnknownCollection = errors.New("topology: collection does not exist") // 400
	ErrDuplicateVolume   = errors.New("topology: volume id in use by another layout")
	ErrNothingToFix      = errors.New("topology: volume has all its copies")
)

// Names SeaweedFS gives servers that report no data center or rack.
const (
	DefaultDataCenter = "DefaultDataCenter"
	DefaultRack       = "DefaultRack"
)

// DefaultCrowdedRatio is the share of the size limit at which a volume is
// crowded and its layout asks for growth ahead of need (SeaweedFS: 0.9).
const DefaultCrowdedRatio = 0.9

// Config holds what a Topology needs.
type Config struct {
	// VolumeSizeLimit in bytes: a volume at or above it is full.
	VolumeSizeLimit uint64
	// CrowdedRatio of the limit at which growth starts early; 0 means
	// DefaultCrowdedRatio.
	CrowdedRatio float64
	// ReplicationAsMin lets a volume with more live copies than its
	// placement asks take writes (SeaweedFS -replication.asMin); by default
	// it waits until the extra copy is removed.
	ReplicationAsMin bool
	// Rand seeds the random choices of writable volumes and placements.
	// Nil means a random seed; tests pass a seeded one for exact runs.
	Rand *rand.Rand
}

// Location is one copy of a volume, as /dir/lookup and /dir/assign show it.
type Location struct {
	URL        string `json:"url"`
	PublicURL  string `json:"publicUrl"`
	DataCenter string `json:"dataCenter"`
	Rack       string `json:"-"`
}

// VolumeInfo is what one server reported about one copy of a volume.
type VolumeInfo struct {
	ID               uint32
	Size             uint64
	Collection       string
	FileCount        uint64
	DeleteCount      uint64
	DeletedByteCount uint64
	ReadOnly         bool
	Placement        superblock.ReplicaPlacement
	TTL              needle.TTL
	Version          uint32
	CompactRevision  uint32
	ModifiedAtSecond int64
	DiskType         string // normalized: "" is the default hard disk type
	DiskID           uint32
}

// LayoutKey names a volume layout.
type LayoutKey struct {
	Collection string
	Placement  superblock.ReplicaPlacement
	TTL        needle.TTL
	DiskType   string // normalized with NormalizeDiskType
}

// Key returns the layout the volume belongs to.
func (v VolumeInfo) Key() LayoutKey {
	return LayoutKey{Collection: v.Collection, Placement: v.Placement, TTL: normalizeTTL(v.TTL), DiskType: v.DiskType}
}

// Topology is the master's view of the cluster. The zero value is not
// usable; call New.
type Topology struct {
	sizeLimit    uint64
	crowdedLimit uint64
	asMin        bool

	mu sync.RWMutex
	// Invariant: every node in nodes is in dcs[node.dc].racks[node.rack];
	// a node is in layouts' replica lists exactly when it is alive and
	// reported the volume; byVolume[v] is the layout whose replicas hold v.
	dcs      map[string]*dataCenter
	nodes    map[string]*node // by URL
	layouts  map[LayoutKey]*layout
	byVolume map[uint32]*layout
	marks    map[uint32]bool // operator read-only marks (from master/state)
	maxVID   uint32          // highest volume id any server reported
	maxKey   uint64          // highest needle key any server reported

	// rnd is a SplitMix64 stream: each draw is one atomic add, so picks on
	// the assign path share no lock. Seeded from Config.Rand.
	rnd atomic.Uint64
}

// New returns an empty topology.
func New(cfg Config) *Topology {
	ratio := cfg.CrowdedRatio
	if ratio <= 0 || ratio > 1 {
		ratio = DefaultCrowdedRatio
	}
	r := cfg.Rand
	if r == nil {
		r = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	t := &Topology{
		sizeLimit:    cfg.VolumeSizeLimit,
		crowdedLimit: uint64(float64(cfg.VolumeSizeLimit) * ratio),
		asMin:        cfg.ReplicationAsMin,
		dcs:          map[string]*dataCenter{},
		nodes:        map[string]*node{},
		layouts:      map[LayoutKey]*layout{},
		byVolume:     map[uint32]*layout{},
		marks:        map[uint32]bool{},
	}
	t.rnd.Store(r.Uint64())
	return t
}

// VolumeSizeLimit returns the size in bytes at which a volume is full.
func (t *Topology) VolumeSizeLimit() uint64 { return t.sizeLimit }

// intN returns a pseudo-random number in [0, n), n > 0.
func (t *Topology) intN(n int) int {
	z := t.rnd.Add(0x9e3779b97f4a7c15)
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	z ^= z >> 31
	// Multiply-shift maps z to [0, n) without a division; the bias is
	// at most n/2^64.
	hi, _ := bits.Mul64(z, uint64(n))
	return int(hi)
}

// NormalizeDiskType maps the names of the default hard disk type ("",
// "hdd", any case) to "", and lower-cases the rest.
func NormalizeDiskType(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	if string(b) == "hdd" {
		return ""
	}
	return string(b)
}

// DiskTypeName is how status pages show a normalized disk type.
func DiskTypeName(s string) string {
	if s == "" {
		return "hdd"
	}
	return s
}

// normalizeTTL makes every spelling of "no TTL" the zero value, so they
// share one layout.
func normalizeTTL(t needle.TTL) needle.TTL {
	if t.IsEmpty() {
		return needle.TTL{}
	}
	return t
}

// TTLFromUint32 decodes the heartbeat form count<<8 | unit.
func TTLFromUint32(v uint32) (needle.TTL, bool) {
	if v>>16 != 0 {
		return needle.TTL{}, false
	}
	t := needle.TTL{Count: uint8(v >> 8), Unit: needle.TTLUnit(v)}
	if !t.Unit.Valid() {
		return needle.TTL{}, false
	}
	return normalizeTTL(t), true
}

// TTLToUint32 encodes a TTL as heartbeats and Raft records carry it.
func TTLToUint32(t needle.TTL) uint32 {
	t = normalizeTTL(t)
	return uint32(t.Count)<<8 | uint32(t.Unit)
}
