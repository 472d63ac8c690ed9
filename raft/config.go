package raft

import (
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// ErrBadConfig: a Config field is out of range or inconsistent with another.
var ErrBadConfig = errors.New("raft: bad config")

// Config configures a Raft node (the driver). Start from DefaultConfig.
type Config struct {
	// ID of this peer (non-zero, unique in the cluster) and ClusterID, which
	// every message carries so that peers of two clusters never mix.
	ID, ClusterID uint64

	// TickInterval is the driver's clock: one core Tick per interval.
	TickInterval time.Duration
	// ElectionTicks: a follower that hears no leader campaigns after a
	// random timeout in [ElectionTicks, 2*ElectionTicks) ticks; a leader
	// that hears no quorum for ElectionTicks steps down (CheckQuorum).
	ElectionTicks int
	// HeartbeatTicks: the leader's heartbeat period. Must be < ElectionTicks.
	HeartbeatTicks int
	// PreVote and CheckQuorum keep a returning partitioned peer from
	// disrupting the cluster and step down a leader cut off from a quorum.
	PreVote, CheckQuorum bool
	// LeaseRead serves LinearizableRead on the leader without a heartbeat
	// round, trusting the CheckQuorum lease: correct only while peers' tick
	// rates drift by less than the randomized election margin. Off by
	// default; requires CheckQuorum.
	LeaseRead bool

	// MaxSizePerMsg bounds the entry bytes of one MSG_APP; MaxInflightMsgs
	// and MaxInflightBytes (0: unbounded) bound what is pipelined to one
	// follower before it acknowledges.
	MaxSizePerMsg    uint64
	MaxInflightMsgs  int
	MaxInflightBytes uint64

	// MaxBatchEntries bounds the proposals taken into one Ready (one fsync,
	// one MSG_APP round).
	MaxBatchEntries int
	// ProposalQueue is how many proposals may wait for the driver before
	// Propose blocks (until its context ends).
	ProposalQueue int

	// SnapshotEntries and SnapshotBytes: a snapshot is taken automatically
	// once this many entries, or this many bytes of entry data, were applied
	// since the last one (0 disables that trigger). TrailingEntries are kept
	// in the log after a snapshot so slightly lagging followers catch up
	// without one.
	SnapshotEntries uint64
	SnapshotBytes   uint64
	TrailingEntries uint64

	// Seed of the randomized election timeouts (0: from the ID and clock).
	Seed int64
	// Logger (nil: discard).
	Logger *slog.Logger
}

// DefaultConfig returns a configuration for a LAN: 100 ms ticks, a 1-2 s
// election timeout, heartbeats every 100 ms, PreVote and CheckQuorum on,
// snapshots every 8192 entries or 64 MiB. Set ID and ClusterID.
func DefaultConfig() Config {
	return Config{
		TickInterval:     100 * time.Millisecond,
		ElectionTicks:    10,
		HeartbeatTicks:   1,
		PreVote:          true,
		CheckQuorum:      true,
		MaxSizePerMsg:    1 << 20,
		MaxInflightMsgs:  256,
		MaxInflightBytes: 32 << 20,
		MaxBatchEntries:  4096,
		ProposalQueue:    8192,
		SnapshotEntries:  8192,
		SnapshotBytes:    64 << 20,
		TrailingEntries:  1024,
	}
}

// ElectionTimeout is the minimum election timeout in wall time.
func (c Config) ElectionTimeout() time.Duration {
	return time.Duration(c.ElectionTicks) * c.TickInterval
}

// Validate checks each field and how fields relate to each other.
func (c Config) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrBadConfig}, args...)...)
	}
	switch {
	case c.ID == 0:
		return bad("ID must be non-zero")
	case c.TickInterval <= 0:
		return bad("TickInterval must be > 0")
	case c.HeartbeatTicks <= 0:
		return bad("HeartbeatTicks must be > 0")
	case c.ElectionTicks <= c.HeartbeatTicks:
		return bad("ElectionTicks (%d) must be > HeartbeatTicks (%d)", c.ElectionTicks, c.HeartbeatTicks)
	case c.ElectionTicks < 3*c.HeartbeatTicks:
		// Fewer than a few heartbeats per timeout: one lost heartbeat
		// would start an election.
		return bad("ElectionTicks (%d) must be at least 3 x HeartbeatTicks (%d)", c.ElectionTicks, c.HeartbeatTicks)
	case c.LeaseRead && !c.CheckQuorum:
		return bad("LeaseRead requires CheckQuorum")
	case c.MaxSizePerMsg == 0:
		return bad("MaxSizePerMsg must be > 0")
	case c.MaxInflightMsgs <= 0:
		return bad("MaxInflightMsgs must be > 0")
	case c.MaxInflightBytes != 0 && c.MaxInflightBytes < c.MaxSizePerMsg:
		return bad("MaxInflightBytes (%d) must be 0 or >= MaxSizePerMsg (%d)", c.MaxInflightBytes, c.MaxSizePerMsg)
	case c.MaxBatchEntries <= 0:
		return bad("MaxBatchEntries must be > 0")
	case c.ProposalQueue <= 0:
		return bad("ProposalQueue must be > 0")
	case c.SnapshotEntries != 0 && c.TrailingEntries >= c.SnapshotEntries:
		return bad("TrailingEntries (%d) must be < SnapshotEntries (%d)", c.TrailingEntries, c.SnapshotEntries)
	}
	return nil
}
