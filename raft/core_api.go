package raft

import (
	"errors"
	"log/slog"
	"math/rand"

	"weedfs.dev/weed/raft/raftpb"
)

// Errors of the core. Callers compare with errors.Is.
var (
	// ErrNotLeader: the operation needs the leader; Status().Lead names it
	// when known.
	ErrNotLeader = errors.New("raft: not leader")
	// ErrProposalDropped: the leader refused the proposal for now (a
	// leadership transfer is in progress, a configuration change is pending,
	// the change is invalid); the caller may retry.
	ErrProposalDropped = errors.New("raft: proposal dropped")
	// ErrStepWrongCluster: a message of another cluster was rejected.
	ErrStepWrongCluster = errors.New("raft: message of another cluster")
	// ErrStepMalformed: a message was rejected because its fields are
	// inconsistent (wrong recipient, entries out of order, indexes out of
	// range). Nothing of the core changed.
	ErrStepMalformed = errors.New("raft: malformed message")
	// ErrInvalidConfig: a CoreConfig or the state given to NewCore is unusable.
	ErrInvalidConfig = errors.New("raft: invalid core config")
)

// Role is what a peer is doing in its current term.
type Role uint8

// Roles of a peer.
const (
	RoleFollower Role = iota
	RolePreCandidate
	RoleCandidate
	RoleLeader
)

func (r Role) String() string {
	switch r {
	case RoleFollower:
		return "follower"
	case RolePreCandidate:
		return "pre-candidate"
	case RoleCandidate:
		return "candidate"
	case RoleLeader:
		return "leader"
	}
	return "unknown"
}

// CoreConfig configures a Core. The core is deterministic given its inputs
// and Rand: it reads no clock and starts no goroutine.
type CoreConfig struct {
	ID, ClusterID uint64
	// ElectionTick: a follower that heard nothing from a leader campaigns
	// after a random timeout in [ElectionTick, 2*ElectionTick) ticks. With
	// CheckQuorum it is also the leader lease. Must be > HeartbeatTick.
	ElectionTick int
	// HeartbeatTick: a leader sends heartbeats every HeartbeatTick ticks.
	HeartbeatTick int
	// PreVote: a candidate first asks whether it could win without raising
	// its term, so a partitioned peer does not disrupt the cluster on return.
	PreVote bool
	// CheckQuorum: a leader that did not hear from a quorum within an
	// election timeout steps down, and followers that heard from a leader
	// within the timeout ignore vote requests (leader stickiness).
	CheckQuorum bool
	// LeaseRead answers ReadIndex on the leader without a heartbeat round
	// while its lease holds: a quorum acknowledged a heartbeat sent less
	// than ElectionTick minus a fifth ticks ago, and such peers ignore vote
	// requests for ElectionTick ticks (CheckQuorum stickiness, and for one
	// election timeout after a restart). That relies on bounded clock
	// drift: tick rates must differ by less than that fifth. Outside the
	// lease a read falls back to a heartbeat round. Requires CheckQuorum.
	LeaseRead bool
	// MaxSizePerMsg bounds the bytes of entry data in one MSG_APP (at least
	// one entry is always sent).
	MaxSizePerMsg uint64
	// MaxInflightMsgs bounds the MSG_APP in flight to one follower in the
	// replicate state; MaxInflightBytes bounds their entry bytes (0: no bound).
	MaxInflightMsgs  int
	MaxInflightBytes uint64
	// Rand draws randomized election timeouts; seeded for the simulation.
	Rand *rand.Rand
	// Log is what the driver has persisted; the core only reads it.
	Log LogReader
	// Logger receives debug and warning lines (nil: discard).
	Logger *slog.Logger
}

// SoftState is volatile state worth telling the driver about.
type SoftState struct {
	Lead uint64
	Role Role
}

// ReadState answers a ReadIndex: once the local applied index reaches Index,
// a read issued with Context sees every write committed before the request.
type ReadState struct {
	Index   uint64
	Context []byte
}

// Ready is a batch of work for the driver, who does it in this order:
//
//  1. If Snapshot is set, restore the state machine from the snapshot data
//     the transport received beside the MSG_SNAP (keep it until then; save
//     it as the latest snapshot only if it is newer than the one you have)
//     and LogStore.Reset(Snapshot.Index, Snapshot.Term).
//  2. Persist Entries (LogStore.Append; they may replace a suffix), then
//     HardState (StableStore.SaveHardState). Both durable before step 3. A
//     crash between the two is safe; HardState before Entries is not.
//  3. Send Messages (a MSG_SNAP gets the data of the latest snapshot, whose
//     meta the core learned through SetSnapshot or NewCore).
//  4. Apply CommittedEntries in order, calling ApplyConfChange for
//     ENTRY_CONF_CHANGE entries; serve ReadStates once applied >= Index.
//  5. Call Advance(rd).
type Ready struct {
	SoftState        *SoftState           // non-nil when Lead or Role changed
	HardState        *raftpb.HardState    // non-nil when changed
	Entries          []*raftpb.Entry      // to persist
	Snapshot         *raftpb.SnapshotMeta // a leader's snapshot to install
	CommittedEntries []*raftpb.Entry      // to apply
	Messages         []*raftpb.Message    // to send after persisting
	ReadStates       []ReadState          // reads to serve once applied
}

// ProgressState is how the leader replicates to one peer.
type ProgressState uint8

// Progress states: probe sends one MSG_APP per heartbeat until the peer's
// log position is found; replicate pipelines; snapshot waits for a MSG_SNAP
// to be delivered.
const (
	ProgressProbe ProgressState = iota
	ProgressReplicate
	ProgressSnapshot
)

func (s ProgressState) String() string {
	switch s {
	case ProgressProbe:
		return "probe"
	case ProgressReplicate:
		return "replicate"
	case ProgressSnapshot:
		return "snapshot"
	}
	return "unknown"
}

// ProgressStatus is the leader's view of one peer.
type ProgressStatus struct {
	Match, Next     uint64
	State           ProgressState
	RecentActive    bool
	Learner         bool
	Inflight        int
	PendingSnapshot uint64
}

// Status is a snapshot of the core's state for the driver and for tests.
type Status struct {
	ID, Term, Vote, Lead uint64
	Role                 Role
	Commit, Applied      uint64
	LastIndex            uint64
	Conf                 *raftpb.ConfState // as of Applied
	// Progress of every peer, the leader's only (nil on other roles).
	Progress       map[uint64]ProgressStatus
	LeadTransferee uint64
}
