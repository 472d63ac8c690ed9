package raft

import "weedfs.dev/weed/raft/raftpb"

// Core is the Raft state machine of one peer: deterministic, with no clocks,
// goroutines, sockets or files. Time arrives as Tick, input as Step and the
// Propose family, and output leaves as a Ready. It is not safe for
// concurrent use: one goroutine (the driver) owns it.
type Core struct {
	id uint64
}

// NewCore builds the core of a peer from what it persisted: hs (nil: zero),
// the latest snapshot's meta (nil: none) and cfg.Log. bootstrap is the
// initial configuration of a brand-new cluster and is used only when the log
// is empty and there is no snapshot: the core then writes it as the first
// log entry (index 1, term 1, committed), identical on every founding peer.
func NewCore(cfg CoreConfig, hs *raftpb.HardState, snap *raftpb.SnapshotMeta, bootstrap *raftpb.ConfState) (*Core, error) {
	return &Core{id: cfg.ID}, nil
}

// Tick advances logical time by one tick: elections and heartbeats.
func (c *Core) Tick() {}

// Step feeds a message from a peer, or a local one (MSG_UNREACHABLE,
// MSG_SNAP_STATUS with reject=true on failure). Stale messages are ignored
// (nil error); malformed ones and those of another cluster return an error
// and change nothing. Step never panics.
func (c *Core) Step(m *raftpb.Message) error { return nil }

// Propose appends an application command to the leader's log and returns
// the index and term it will have if committed. It returns ErrNotLeader on
// other roles and ErrProposalDropped during a leadership transfer.
func (c *Core) Propose(data []byte) (index, term uint64, err error) { return 0, 0, ErrNotLeader }

// ProposeConfChange appends a configuration change. A change with an empty
// Changes list adds or removes one member; Changes lists several and enters
// joint consensus, left automatically by a follow-up entry. Only one change
// may be pending (proposed, not applied) at a time.
func (c *Core) ProposeConfChange(cc *raftpb.ConfChange) (index, term uint64, err error) {
	return 0, 0, ErrNotLeader
}

// ApplyConfChange applies a committed ENTRY_CONF_CHANGE and returns the new
// configuration. The driver calls it while applying committed entries, in
// log order. An invalid change (which every peer rejects alike) leaves the
// configuration unchanged.
func (c *Core) ApplyConfChange(cc *raftpb.ConfChange) *raftpb.ConfState { return nil }

// ReadIndex requests a linearizable read: the answer is a ReadState with the
// same context in a later Ready. Followers forward it to the leader; it
// returns ErrNotLeader when no leader is known. Contexts should be unique.
func (c *Core) ReadIndex(rctx []byte) error { return ErrNotLeader }

// TransferLeadership asks the leader to hand over to peer to: it replicates
// to the target until caught up, then sends MSG_TIMEOUT_NOW. Proposals are
// dropped meanwhile; the transfer is aborted after an election timeout.
// It does nothing on a non-leader.
func (c *Core) TransferLeadership(to uint64) {}

// Campaign starts an election now (as if the election timeout elapsed).
func (c *Core) Campaign() {}

// SetSnapshot tells the core about a snapshot the driver saved; MSG_SNAP to
// followers behind the log's first index will carry this meta.
func (c *Core) SetSnapshot(meta *raftpb.SnapshotMeta) {}

// HasReady reports whether Ready has work.
func (c *Core) HasReady() bool { return false }

// Ready returns the pending work. Call Advance after doing it.
func (c *Core) Ready() Ready { return Ready{} }

// Advance tells the core the driver has done everything rd asked.
func (c *Core) Advance(rd Ready) {}

// Status returns the current state (copies).
func (c *Core) Status() Status { return Status{ID: c.id} }
