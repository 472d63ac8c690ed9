package raft

import (
	"fmt"

	"google.golang.org/protobuf/proto"

	"weedfs.dev/weed/raft/raftpb"
)

// Propose appends an application command to the leader's log and returns
// the index and term it will have if committed. It returns ErrNotLeader on
// other roles and ErrProposalDropped during a leadership transfer.
func (c *Core) Propose(data []byte) (index, term uint64, err error) {
	return c.propose(&raftpb.Entry{Type: raftpb.EntryType_ENTRY_NORMAL, Data: data})
}

func (c *Core) propose(e *raftpb.Entry) (uint64, uint64, error) {
	if c.role != RoleLeader {
		return 0, 0, ErrNotLeader
	}
	if c.leadTransferee != 0 {
		return 0, 0, fmt.Errorf("%w: leadership transfer to %d in progress", ErrProposalDropped, c.leadTransferee)
	}
	if _, ok := c.prs[c.id]; !ok {
		return 0, 0, fmt.Errorf("%w: leader is not a member", ErrProposalDropped)
	}
	if err := c.appendEntries(e); err != nil {
		return 0, 0, err
	}
	c.bcastAppend()
	return e.Index, e.Term, nil
}

// ProposeConfChange appends a configuration change. A change with an empty
// Changes list adds or removes one member; Changes lists several and enters
// joint consensus, left automatically by a follow-up entry. Only one change
// may be pending (proposed, not applied) at a time.
func (c *Core) ProposeConfChange(cc *raftpb.ConfChange) (index, term uint64, err error) {
	if c.role != RoleLeader {
		return 0, 0, ErrNotLeader
	}
	if c.pendingConfIndex > c.log.applied {
		return 0, 0, fmt.Errorf("%w: configuration change at %d not applied yet", ErrProposalDropped, c.pendingConfIndex)
	}
	if _, err := applyConfChange(c.conf, cc); err != nil {
		return 0, 0, fmt.Errorf("%w: %w", ErrProposalDropped, err)
	}
	data, err := proto.Marshal(cc)
	if err != nil {
		return 0, 0, fmt.Errorf("raft: encode conf change: %w", err)
	}
	index, term, err = c.propose(&raftpb.Entry{Type: raftpb.EntryType_ENTRY_CONF_CHANGE, Data: data})
	if err == nil {
		c.pendingConfIndex = index
	}
	return index, term, err
}

// ApplyConfChange applies a committed ENTRY_CONF_CHANGE and returns the new
// configuration. The driver calls it while applying committed entries, in
// log order. An invalid change (which every peer rejects alike) leaves the
// configuration unchanged.
func (c *Core) ApplyConfChange(cc *raftpb.ConfChange) *raftpb.ConfState {
	cs, err := applyConfChange(c.conf, cc)
	if err != nil {
		c.logger.Warn("raft: conf change ignored", "id", c.id, "err", err)
		return proto.Clone(c.conf).(*raftpb.ConfState)
	}
	c.setConf(cs)
	if c.role == RoleLeader {
		if !c.quorum.isVoter(c.id) {
			// Removed or demoted: the change is committed, hand over to
			// a caught-up voter rather than wait for an election timeout.
			if to := c.caughtUpVoter(); to != 0 {
				c.sendTimeoutNow(to)
			}
			c.becomeFollower(c.term, 0)
		} else {
			if c.leadTransferee != 0 && c.prs[c.leadTransferee] == nil {
				c.leadTransferee = 0
			}
			if c.maybeCommit() {
				c.bcastAppend()
			}
		}
	}
	return proto.Clone(cs).(*raftpb.ConfState)
}

// caughtUpVoter returns a voter (not this peer) whose log matches the
// leader's last index, or 0.
func (c *Core) caughtUpVoter() uint64 {
	for _, id := range c.quorum.voterIDs() {
		if pr := c.prs[id]; id != c.id && pr != nil && pr.match == c.log.lastIndex() {
			return id
		}
	}
	return 0
}

// ReadIndex requests a linearizable read: the answer is a ReadState with the
// same context in a later Ready. Followers forward it to the leader; it
// returns ErrNotLeader when no leader is known. Contexts should be unique.
func (c *Core) ReadIndex(rctx []byte) error {
	switch {
	case c.role == RoleLeader:
		c.leaderRead(c.id, rctx)
		return nil
	case c.role == RoleFollower && c.lead != 0:
		c.send(&raftpb.Message{To: c.lead, Type: raftpb.MessageType_MSG_READ_INDEX, Context: rctx})
		return nil
	}
	return ErrNotLeader
}

// TransferLeadership asks the leader to hand over to peer to: it replicates
// to the target until caught up, then sends MSG_TIMEOUT_NOW. Proposals are
// dropped meanwhile; the transfer is aborted after an election timeout.
// It does nothing on a non-leader or for a target that is not a voter.
func (c *Core) TransferLeadership(to uint64) {
	if c.role != RoleLeader || to == c.id || to == c.leadTransferee {
		return
	}
	pr := c.prs[to]
	if pr == nil || pr.learner {
		return
	}
	c.leadTransferee = to
	c.electionElapsed = 0
	if pr.match == c.log.lastIndex() {
		c.sendTimeoutNow(to)
	} else {
		c.maybeSendAppend(to, true)
	}
}

// Campaign starts an election now (as if the election timeout elapsed).
func (c *Core) Campaign() {
	if err := c.hup(false); err != nil {
		c.logger.Warn("raft: campaign", "id", c.id, "err", err)
	}
}

// SetSnapshot tells the core about a snapshot the driver saved; MSG_SNAP to
// followers behind the log's first index will carry this meta.
func (c *Core) SetSnapshot(meta *raftpb.SnapshotMeta) {
	if meta != nil && (c.snapshot == nil || meta.Index > c.snapshot.Index) {
		c.snapshot = proto.Clone(meta).(*raftpb.SnapshotMeta)
	}
}
