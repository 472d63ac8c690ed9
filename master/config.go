package master

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"weedfs.dev/weed/raft"
	"weedfs.dev/weed/security"
	"weedfs.dev/weed/storage/superblock"
)

// ErrBadConfig: a Config field is out of range.
var ErrBadConfig = errors.New("master: bad config")

// Defaults of Config, as SeaweedFS's `weed master` has them.
const (
	DefaultPort              = 9333
	DefaultVolumeSizeLimitMB = 30000
	DefaultGarbageThreshold  = 0.3
	DefaultPulse             = 5 * time.Second
	DefaultVacuumInterval    = 15 * time.Minute
	// DefaultMaxAssignCount bounds count= on /dir/assign, so one request
	// cannot burn the key space.
	DefaultMaxAssignCount = 1 << 20
)

// Config is what a master needs.
type Config struct {
	// IP and Port this master is reached at by peers, volume servers and
	// clients. The HTTP server itself is the caller's (Handler).
	IP   string
	Port int
	// MetaDir holds the Raft log and snapshots (-mdir). Empty keeps them in
	// memory: nothing survives a restart (tests and throw-away masters).
	MetaDir string
	// Peers are the host:port of every master of the group, this one
	// included (added if missing). Empty: a one-node group.
	Peers []string
	// DefaultReplication is used when an assign names none ("000").
	DefaultReplication string
	// VolumeSizeLimitMB: a volume at this size is full (30000).
	VolumeSizeLimitMB uint64
	// GarbageThreshold: the garbage ratio above which vacuum compacts (0.3).
	GarbageThreshold float64
	// Pulse is the heartbeat interval volume servers are expected to keep
	// (-pulseSeconds); a node silent for DeadPulses pulses is dead.
	Pulse      time.Duration
	DeadPulses int
	// VacuumInterval between automatic vacuums on the leader (15 min);
	// negative disables them.
	VacuumInterval time.Duration
	// VolumePreallocate is passed to volume servers when growing (bytes).
	VolumePreallocate int64
	// MaxAssignCount bounds count= on /dir/assign (DefaultMaxAssignCount).
	MaxAssignCount uint64
	// KeyBlock is how many keys one Raft reservation takes (0: the
	// sequencer's default).
	KeyBlock uint64
	// WhiteList guards what changes state; nil allows everyone.
	WhiteList *security.WhiteList
	Security  security.Config
	// Raft tunes the consensus timing; zero value: raft.DefaultConfig().
	// ID and ClusterID are always derived from the peer addresses.
	Raft *raft.Config
	// Version is shown in status pages.
	Version string
	Logger  *slog.Logger
	// HTTP makes the master's calls to volume servers and the leader
	// (nil: a keep-alive client of its own).
	HTTP *http.Client
}

func (c *Config) setDefaults() {
	if c.IP == "" {
		c.IP = "127.0.0.1"
	}
	if c.Port == 0 {
		c.Port = DefaultPort
	}
	if c.DefaultReplication == "" {
		c.DefaultReplication = "000"
	}
	if c.VolumeSizeLimitMB == 0 {
		c.VolumeSizeLimitMB = DefaultVolumeSizeLimitMB
	}
	if c.GarbageThreshold == 0 {
		c.GarbageThreshold = DefaultGarbageThreshold
	}
	if c.Pulse <= 0 {
		c.Pulse = DefaultPulse
	}
	if c.DeadPulses <= 0 {
		c.DeadPulses = 3
	}
	if c.VacuumInterval == 0 {
		c.VacuumInterval = DefaultVacuumInterval
	}
	if c.MaxAssignCount == 0 {
		c.MaxAssignCount = DefaultMaxAssignCount
	}
	if c.Version == "" {
		c.Version = "30GB weed"
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

func (c *Config) validate() error {
	if c.Port <= 0 || c.Port > 65535 {
		return fmt.Errorf("%w: port %d", ErrBadConfig, c.Port)
	}
	if _, err := superblock.ParseReplicaPlacement(c.DefaultReplication); err != nil {
		return fmt.Errorf("%w: default replication: %w", ErrBadConfig, err)
	}
	if c.GarbageThreshold < 0 || c.GarbageThreshold > 1 {
		return fmt.Errorf("%w: garbage threshold %v is not in [0, 1]", ErrBadConfig, c.GarbageThreshold)
	}
	if c.VolumeSizeLimitMB > 1<<20 {
		return fmt.Errorf("%w: volume size limit %d MB is too large", ErrBadConfig, c.VolumeSizeLimitMB)
	}
	for _, p := range c.Peers {
		if _, port, err := net.SplitHostPort(p); err != nil || port == "" {
			return fmt.Errorf("%w: peer %q is not host:port", ErrBadConfig, p)
		}
	}
	return nil
}

// addr is this master's host:port as peers name it.
func (c *Config) addr() string { return net.JoinHostPort(c.IP, strconv.Itoa(c.Port)) }
