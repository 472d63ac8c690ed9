package raft

import (
	"google.golang.org/protobuf/proto"

	"weedfs.dev/weed/raft/raftpb"
)

func (c *Core) softState() SoftState { return SoftState{Lead: c.lead, Role: c.role} }

func (c *Core) hardState() *raftpb.HardState {
	return &raftpb.HardState{Term: c.term, Vote: c.vote, Commit: c.log.committed}
}

func hardStateEqual(a, b *raftpb.HardState) bool {
	return a.Term == b.Term && a.Vote == b.Vote && a.Commit == b.Commit
}

// HasReady reports whether Ready has work.
func (c *Core) HasReady() bool {
	return c.softState() != c.prevSoft ||
		!hardStateEqual(c.hardState(), c.prevHard) ||
		len(c.log.unstable) > 0 || c.log.snapshot != nil ||
		len(c.msgs) > 0 || len(c.readStates) > 0 ||
		c.log.hasNextCommitted()
}

// Ready returns the pending work; the driver does it in the order the
// Ready type describes, then calls Advance. Steps, ticks and proposals
// between Ready and Advance are allowed: their output goes into the next
// Ready.
func (c *Core) Ready() Ready {
	var rd Ready
	if ss := c.softState(); ss != c.prevSoft {
		rd.SoftState = &ss
		c.prevSoft = ss
	}
	if hs := c.hardState(); !hardStateEqual(hs, c.prevHard) {
		rd.HardState = hs
		c.prevHard = proto.Clone(hs).(*raftpb.HardState)
	}
	if len(c.log.unstable) > 0 {
		rd.Entries = append([]*raftpb.Entry(nil), c.log.unstable...)
	}
	if c.log.snapshot != nil {
		rd.Snapshot = proto.Clone(c.log.snapshot).(*raftpb.SnapshotMeta)
	}
	ents, err := c.log.nextCommitted()
	if err != nil {
		c.logger.Warn("raft: read committed entries", "id", c.id, "err", err)
	} else if len(ents) > 0 {
		rd.CommittedEntries = ents
		c.log.applying = ents[len(ents)-1].Index
	}
	rd.Messages, c.msgs = c.msgs, nil
	rd.ReadStates, c.readStates = c.readStates, nil
	return rd
}

// Advance tells the core the driver has done everything rd asked.
func (c *Core) Advance(rd Ready) {
	if rd.Snapshot != nil {
		c.log.stableSnapTo(rd.Snapshot.Index)
		c.stableCommit = max(c.stableCommit, rd.Snapshot.Index)
	}
	if rd.HardState != nil {
		c.stableCommit = rd.HardState.Commit
	}
	if n := len(rd.Entries); n > 0 {
		c.log.stableTo(rd.Entries[n-1].Index, rd.Entries[n-1].Term)
	}
	if n := len(rd.CommittedEntries); n > 0 {
		c.log.applied = max(c.log.applied, rd.CommittedEntries[n-1].Index)
	}
	if c.role == RoleLeader && len(c.conf.GetOutgoing()) > 0 && c.log.applied >= c.pendingConfIndex {
		// Joint consensus entered and applied: leave it.
		if _, _, err := c.ProposeConfChange(&raftpb.ConfChange{LeaveJoint: true}); err != nil {
			c.logger.Debug("raft: leave joint not proposed", "id", c.id, "err", err)
		}
	}
}
