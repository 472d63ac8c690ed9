package raft

import (
	"fmt"
	"io"
	"log/slog"
	"math/rand"

	"google.golang.org/protobuf/proto"

	"weedfs.dev/weed/raft/raftpb"
)

// transferContext marks a campaign started by MSG_TIMEOUT_NOW: voters grant
// it even while they believe in a live leader.
var transferContext = []byte("transfer")

// Core is the Raft state machine of one peer: deterministic, with no clocks,
// goroutines, sockets or files. Time arrives as Tick, input as Step and the
// Propose family, and output leaves as a Ready. It is not safe for
// concurrent use: one goroutine (the driver) owns it.
type Core struct {
	id, clusterID uint64
	cfg           CoreConfig
	logger        *slog.Logger

	// Persistent state (HardState with log.committed).
	// Invariant: vote is 0 or the peer this one voted for in term.
	term, vote uint64
	log        *raftLog

	role Role
	lead uint64 // 0: unknown
	// step and tick are swapped by role (becomeFollower, becomeLeader...).
	step func(c *Core, m *raftpb.Message) error
	tick func(c *Core) error

	// conf is the configuration as of log.applied (changes take effect when
	// applied); quorum and prs follow it.
	conf   *raftpb.ConfState
	quorum jointQuorum
	prs    map[uint64]*progress // leader only: every member but learners too
	ids    []uint64             // sorted members, for deterministic sends
	votes  map[uint64]bool

	// electionElapsed counts ticks since the last election timeout reset
	// (leader: since the last CheckQuorum round).
	electionElapsed, heartbeatElapsed, randomizedTimeout int
	// ticks counts Tick calls since NewCore: the clock of lease reads.
	ticks uint64
	// leaseVoid: this leader sent MSG_TIMEOUT_NOW in its term.
	leaseVoid bool

	msgs       []*raftpb.Message
	readStates []ReadState
	reads      readQueue
	// earlyReads wait for the leader's first commit of its own term.
	earlyReads []*raftpb.Message

	// pendingConfIndex: a conf change may be proposed only once applied
	// reaches it (the last conf change proposed, or lastIndex on election).
	pendingConfIndex uint64
	leadTransferee   uint64
	snapshot         *raftpb.SnapshotMeta // latest snapshot, sent in MSG_SNAP

	prevSoft SoftState
	prevHard *raftpb.HardState
	// stableCommit is the commit index the driver has persisted (Advance
	// of a Ready with a HardState). A follower appends a configuration
	// change only once the commit covering the previous one is durable, so
	// that a peer restarting with the change in its log knows the previous
	// one committed and applies it before campaigning (apply-time
	// configuration changes are safe under that invariant, etcd-io/etcd#7625;
	// it also survives drivers that persist entries and HardState
	// separately).
	stableCommit uint64
}

// NewCore builds the core of a peer from what it persisted: hs (nil: zero),
// the latest snapshot's meta (nil: none) and cfg.Log. bootstrap is the
// initial configuration of a brand-new cluster and is used only when the log
// is empty and there is no snapshot: the core then writes it as the first
// log entry (index 1, term 1, committed), identical on every founding peer,
// so the driver applies it (ApplyConfChange) like any other change.
//
// If the snapshot is newer than the log, the first Ready carries it again so
// the driver resets the log to it.
func NewCore(cfg CoreConfig, hs *raftpb.HardState, snap *raftpb.SnapshotMeta, bootstrap *raftpb.ConfState) (*Core, error) {
	if err := checkCoreConfig(&cfg); err != nil {
		return nil, err
	}
	l, err := newRaftLog(cfg.Log)
	if err != nil {
		return nil, err
	}
	c := &Core{
		id: cfg.ID, clusterID: cfg.ClusterID, cfg: cfg, logger: cfg.Logger,
		log: l, conf: &raftpb.ConfState{}, prevHard: &raftpb.HardState{},
	}
	if hs != nil {
		c.term, c.vote = hs.Term, hs.Vote
		c.prevHard = proto.Clone(hs).(*raftpb.HardState)
		c.stableCommit = hs.Commit
	}
	first, err := cfg.Log.FirstIndex()
	if err != nil {
		return nil, fmt.Errorf("raft: read first index: %w", err)
	}
	if snap != nil {
		if snap.Index+1 < first {
			return nil, fmt.Errorf("%w: snapshot at %d older than log start %d", ErrInvalidConfig, snap.Index, first)
		}
		c.snapshot = proto.Clone(snap).(*raftpb.SnapshotMeta)
		c.conf = proto.Clone(snap.GetConf()).(*raftpb.ConfState)
		if !l.matchTerm(snap.Index, snap.Term) {
			l.restore(c.snapshot)
		}
		l.committed, l.applying, l.applied = snap.Index, snap.Index, snap.Index
	} else if first > 1 {
		return nil, fmt.Errorf("%w: log compacted up to %d without a snapshot", ErrInvalidConfig, first-1)
	}
	if hs != nil && hs.Commit > l.committed {
		if hs.Commit > l.lastIndex() {
			return nil, fmt.Errorf("%w: commit %d past last index %d", ErrInvalidConfig, hs.Commit, l.lastIndex())
		}
		l.committed = hs.Commit
	}
	if snap == nil && l.lastIndex() == 0 && len(bootstrap.GetMembers()) > 0 {
		if err := c.bootstrap(bootstrap); err != nil {
			return nil, err
		}
	}
	c.setConf(c.conf)
	c.becomeFollower(c.term, 0)
	c.prevSoft = SoftState{Role: RoleFollower}
	return c, nil
}

func checkCoreConfig(cfg *CoreConfig) error {
	switch {
	case cfg.ID == 0:
		return fmt.Errorf("%w: ID 0", ErrInvalidConfig)
	case cfg.HeartbeatTick <= 0:
		return fmt.Errorf("%w: HeartbeatTick must be > 0", ErrInvalidConfig)
	case cfg.ElectionTick <= cfg.HeartbeatTick:
		return fmt.Errorf("%w: ElectionTick must be > HeartbeatTick", ErrInvalidConfig)
	case cfg.Log == nil:
		return fmt.Errorf("%w: no Log", ErrInvalidConfig)
	case cfg.LeaseRead && !cfg.CheckQuorum:
		return fmt.Errorf("%w: LeaseRead requires CheckQuorum", ErrInvalidConfig)
	}
	if cfg.MaxInflightMsgs <= 0 {
		cfg.MaxInflightMsgs = 256
	}
	if cfg.MaxSizePerMsg == 0 {
		cfg.MaxSizePerMsg = 1 << 20
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.New(rand.NewSource(int64(cfg.ID)))
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return nil
}

// bootstrap writes the founding configuration as entry 1.
func (c *Core) bootstrap(cs *raftpb.ConfState) error {
	cc := &raftpb.ConfChange{}
	for _, m := range cs.Members {
		t := raftpb.ConfChangeType_CONF_ADD_VOTER
		if m.Learner {
			t = raftpb.ConfChangeType_CONF_ADD_LEARNER
		}
		cc.Changes = append(cc.Changes, &raftpb.ConfChange{Type: t, Id: m.Id, Address: m.Address})
	}
	if _, err := applyConfChange(&raftpb.ConfState{}, cc); err != nil {
		return fmt.Errorf("%w: bootstrap configuration: %w", ErrInvalidConfig, err)
	}
	data, err := proto.Marshal(cc)
	if err != nil {
		return fmt.Errorf("raft: encode bootstrap change: %w", err)
	}
	c.log.append(&raftpb.Entry{Term: 1, Index: 1, Type: raftpb.EntryType_ENTRY_CONF_CHANGE, Data: data})
	c.log.committed = 1
	c.term = max(c.term, 1)
	return nil
}

// setConf installs a configuration; progress is kept for members that stay.
func (c *Core) setConf(cs *raftpb.ConfState) {
	c.conf = cs
	c.quorum = quorumOf(cs)
	c.ids = memberIDs(cs)
	if c.role != RoleLeader {
		return
	}
	old := c.prs
	c.prs = make(map[uint64]*progress, len(c.ids))
	for _, id := range c.ids {
		pr := old[id]
		if pr == nil {
			pr = c.newProgress(c.log.lastIndex() + 1)
		}
		pr.learner = !c.quorum.isVoter(id)
		c.prs[id] = pr
	}
}

func (c *Core) newProgress(next uint64) *progress {
	return newProgress(next, c.cfg.MaxInflightMsgs, c.cfg.MaxInflightBytes, false)
}

// promotable: this peer is a voter and may campaign.
func (c *Core) promotable() bool {
	return c.quorum.isVoter(c.id) && c.log.snapshot == nil
}

// send queues a message, filling in the sender, cluster and (unless the
// message is a vote, which sets it) the term.
func (c *Core) send(m *raftpb.Message) {
	m.From = c.id
	m.ClusterId = c.clusterID
	switch m.Type {
	case raftpb.MessageType_MSG_VOTE, raftpb.MessageType_MSG_VOTE_RESP,
		raftpb.MessageType_MSG_PRE_VOTE, raftpb.MessageType_MSG_PRE_VOTE_RESP:
	default:
		m.Term = c.term
	}
	c.msgs = append(c.msgs, m)
}

// Tick advances logical time by one tick: elections and heartbeats.
func (c *Core) Tick() {
	c.ticks++
	if err := c.tick(c); err != nil {
		c.logger.Warn("raft: tick", "id", c.id, "err", err)
	}
}

// isLocal: message types the driver generates about a peer, never sent on
// the wire.
func isLocal(t raftpb.MessageType) bool {
	return t == raftpb.MessageType_MSG_UNREACHABLE || t == raftpb.MessageType_MSG_SNAP_STATUS
}

// Step feeds a message from a peer, or a local one (MSG_UNREACHABLE,
// MSG_SNAP_STATUS with reject=true on failure, From = the peer concerned).
// Stale messages are ignored (nil error); malformed ones and those of another
// cluster return an error and change nothing. Step never panics.
func (c *Core) Step(m *raftpb.Message) error {
	if err := c.checkMessage(m); err != nil {
		return err
	}
	if isLocal(m.Type) {
		if c.role == RoleLeader {
			return c.step(c, m)
		}
		return nil
	}
	switch {
	case m.Term > c.term:
		if m.Type == raftpb.MessageType_MSG_VOTE || m.Type == raftpb.MessageType_MSG_PRE_VOTE {
			force := string(m.Context) == string(transferContext)
			inLease := c.cfg.CheckQuorum && c.lead != 0 && c.electionElapsed < c.cfg.ElectionTick
			if c.cfg.LeaseRead && c.ticks < uint64(c.cfg.ElectionTick) {
				// Just restarted: we may have promised a leader its lease
				// before the crash; honour it for one election timeout.
				inLease = true
			}
			if !force && inLease {
				// Leader stickiness: a leader was heard from within the
				// election timeout, so this candidate must not disrupt it.
				return nil
			}
		}
		switch {
		case m.Type == raftpb.MessageType_MSG_PRE_VOTE:
			// A pre-vote never changes our term.
		case m.Type == raftpb.MessageType_MSG_PRE_VOTE_RESP && !m.Reject:
			// The pre-candidate's future term: counted in stepCandidate.
		case m.Type == raftpb.MessageType_MSG_APP, m.Type == raftpb.MessageType_MSG_HEARTBEAT,
			m.Type == raftpb.MessageType_MSG_SNAP:
			c.becomeFollower(m.Term, m.From)
		default:
			c.becomeFollower(m.Term, 0)
		}
	case m.Term < c.term:
		switch m.Type {
		case raftpb.MessageType_MSG_APP, raftpb.MessageType_MSG_HEARTBEAT:
			// Tell a stale leader our term, as Raft's AppendEntries reply
			// does. Vote requests do not always carry it there: PreVote
			// does not raise terms, and a peer with a stale configuration
			// may not know the leader (the simulation found a leader stuck
			// for good behind peers that silently ignored it).
			c.send(&raftpb.Message{To: m.From, Type: raftpb.MessageType_MSG_APP_RESP})
		case raftpb.MessageType_MSG_PRE_VOTE:
			c.send(&raftpb.Message{To: m.From, Type: raftpb.MessageType_MSG_PRE_VOTE_RESP, Term: c.term, Reject: true})
		case raftpb.MessageType_MSG_VOTE:
			// Likewise a candidate behind in terms: otherwise it may keep
			// campaigning below our term for good (found by the
			// simulation: peers whose terms a stale peer inflated ignored
			// every vote request of the only electable candidate).
			c.send(&raftpb.Message{To: m.From, Type: raftpb.MessageType_MSG_VOTE_RESP, Term: c.term, Reject: true})
		}
		return nil
	}
	switch m.Type {
	case raftpb.MessageType_MSG_VOTE, raftpb.MessageType_MSG_PRE_VOTE:
		return c.handleVote(m)
	}
	return c.step(c, m)
}

// checkMessage rejects messages that no correct peer sends.
func (c *Core) checkMessage(m *raftpb.Message) error {
	if m == nil {
		return fmt.Errorf("%w: nil message", ErrStepMalformed)
	}
	if isLocal(m.Type) {
		if m.From == 0 || m.From == c.id {
			return fmt.Errorf("%w: local %s about peer %d", ErrStepMalformed, m.Type, m.From)
		}
		return nil
	}
	if m.ClusterId != c.clusterID {
		return fmt.Errorf("%w: cluster %d, ours %d", ErrStepWrongCluster, m.ClusterId, c.clusterID)
	}
	switch {
	case m.To != c.id:
		return fmt.Errorf("%w: %s to %d delivered to %d", ErrStepMalformed, m.Type, m.To, c.id)
	case m.From == 0 || m.From == c.id:
		return fmt.Errorf("%w: %s from %d", ErrStepMalformed, m.Type, m.From)
	case m.Type == raftpb.MessageType_MSG_NONE || m.Type > raftpb.MessageType_MSG_UNREACHABLE:
		return fmt.Errorf("%w: message type %d", ErrStepMalformed, m.Type)
	case m.Term == 0:
		return fmt.Errorf("%w: %s without term", ErrStepMalformed, m.Type)
	case m.Type == raftpb.MessageType_MSG_SNAP && m.Snapshot == nil:
		return fmt.Errorf("%w: MSG_SNAP without snapshot", ErrStepMalformed)
	case m.Type == raftpb.MessageType_MSG_APP:
		prev := m.LogTerm
		for i, e := range m.Entries {
			if e == nil || e.Index != m.Index+1+uint64(i) || e.Term < prev || e.Term > m.Term {
				return fmt.Errorf("%w: MSG_APP entry %d out of order", ErrStepMalformed, i)
			}
			prev = e.Term
		}
		if m.Index+uint64(len(m.Entries)) < m.Index {
			return fmt.Errorf("%w: MSG_APP index overflow", ErrStepMalformed)
		}
	}
	return nil
}
