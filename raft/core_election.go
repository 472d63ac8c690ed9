package raft

import (
	"fmt"

	"weedfs.dev/weed/raft/raftpb"
)

// reset starts a new term (or restarts the current one) for any role.
func (c *Core) reset(term uint64) {
	if term != c.term {
		c.term = term
		c.vote = 0
	}
	c.lead = 0
	c.electionElapsed = 0
	c.heartbeatElapsed = 0
	c.randomizedTimeout = c.cfg.ElectionTick + c.cfg.Rand.Intn(c.cfg.ElectionTick)
	c.leadTransferee = 0
	c.leaseVoid = false
	c.votes = nil
	c.prs = nil
	c.reads.reset()
	c.earlyReads = nil
}

func (c *Core) becomeFollower(term, lead uint64) {
	c.reset(term)
	c.lead = lead
	c.role = RoleFollower
	c.step = stepFollower
	c.tick = tickElection
}

func (c *Core) becomePreCandidate() {
	// No new term and no vote: a pre-vote changes nothing persistent.
	c.step = stepCandidate
	c.tick = tickElection
	c.votes = map[uint64]bool{}
	c.lead = 0
	c.role = RolePreCandidate
}

func (c *Core) becomeCandidate() {
	c.reset(c.term + 1)
	c.vote = c.id
	c.votes = map[uint64]bool{}
	c.role = RoleCandidate
	c.step = stepCandidate
	c.tick = tickElection
}

func (c *Core) becomeLeader() error {
	c.reset(c.term)
	c.lead = c.id
	c.role = RoleLeader
	c.step = stepLeader
	c.tick = tickHeartbeat
	c.setConf(c.conf) // builds c.prs
	last := c.log.lastIndex()
	for _, id := range c.ids {
		pr := c.prs[id]
		pr.next = last + 1
		if id == c.id {
			pr.match = last
			pr.becomeReplicate()
		}
	}
	// A conf change may sit unapplied in the log: allow none until applied
	// catches up with everything before this term.
	c.pendingConfIndex = last
	// Entries of earlier terms commit only through one of this term.
	if err := c.appendEntries(&raftpb.Entry{Type: raftpb.EntryType_ENTRY_NOOP}); err != nil {
		return err
	}
	c.logger.Debug("raft: became leader", "id", c.id, "term", c.term)
	return nil
}

func tickElection(c *Core) error {
	c.electionElapsed++
	if c.promotable() && c.electionElapsed >= c.randomizedTimeout {
		c.electionElapsed = 0
		return c.hup(false)
	}
	return nil
}

func tickHeartbeat(c *Core) error {
	c.heartbeatElapsed++
	c.electionElapsed++
	if c.electionElapsed >= c.cfg.ElectionTick {
		c.electionElapsed = 0
		if c.cfg.CheckQuorum {
			if !c.quorumActive() {
				c.logger.Debug("raft: leader lost its quorum, stepping down", "id", c.id, "term", c.term)
				c.becomeFollower(c.term, 0)
				return nil
			}
		}
		c.leadTransferee = 0 // a transfer that did not finish in time is aborted
	}
	if c.heartbeatElapsed >= c.cfg.HeartbeatTick {
		c.heartbeatElapsed = 0
		c.bcastHeartbeat()
	}
	return nil
}

// quorumActive reports whether a quorum answered since the last round, and
// starts a new round.
func (c *Core) quorumActive() bool {
	active := map[uint64]bool{}
	for _, id := range c.ids {
		pr := c.prs[id]
		if id == c.id || pr.recentActive {
			active[id] = true
		}
		if id != c.id {
			pr.recentActive = false
		}
	}
	return c.quorum.result(active) == voteWon
}

// hup starts an election if this peer may: it is a voter and no
// configuration change is committed but unapplied (it could change who
// votes).
func (c *Core) hup(transfer bool) error {
	if c.role == RoleLeader || !c.promotable() {
		return nil
	}
	if c.log.applied < c.log.committed {
		ents, err := c.log.entries(c.log.applied+1, c.log.committed+1, 0)
		if err != nil {
			return fmt.Errorf("raft: scan unapplied entries: %w", err)
		}
		for _, e := range ents {
			if e.Type == raftpb.EntryType_ENTRY_CONF_CHANGE {
				c.logger.Debug("raft: no campaign before applying a conf change", "id", c.id, "index", e.Index)
				return nil
			}
		}
	}
	if c.cfg.PreVote && !transfer {
		return c.campaign(true, false)
	}
	return c.campaign(false, transfer)
}

func (c *Core) campaign(pre, transfer bool) error {
	voteTerm, msgType := c.term+1, raftpb.MessageType_MSG_PRE_VOTE
	if pre {
		c.becomePreCandidate()
	} else {
		c.becomeCandidate()
		voteTerm, msgType = c.term, raftpb.MessageType_MSG_VOTE
	}
	c.votes[c.id] = true
	if c.quorum.result(c.votes) == voteWon {
		// A single voter wins at once.
		if pre {
			return c.campaign(false, transfer)
		}
		if err := c.becomeLeader(); err != nil {
			return err
		}
		c.bcastAppend()
		return nil
	}
	lastTerm, err := c.log.lastTerm()
	if err != nil {
		return fmt.Errorf("raft: campaign: %w", err)
	}
	var rctx []byte
	if transfer {
		rctx = transferContext
	}
	for _, id := range c.quorum.voterIDs() {
		if id == c.id {
			continue
		}
		c.send(&raftpb.Message{To: id, Type: msgType, Term: voteTerm,
			Index: c.log.lastIndex(), LogTerm: lastTerm, Context: rctx})
	}
	return nil
}

// handleVote answers a (pre-)vote request whose term is >= ours.
func (c *Core) handleVote(m *raftpb.Message) error {
	resp := raftpb.MessageType_MSG_VOTE_RESP
	if m.Type == raftpb.MessageType_MSG_PRE_VOTE {
		resp = raftpb.MessageType_MSG_PRE_VOTE_RESP
	}
	canVote := c.vote == m.From ||
		(c.vote == 0 && c.lead == 0) ||
		(m.Type == raftpb.MessageType_MSG_PRE_VOTE && m.Term > c.term)
	ok := false
	if canVote {
		var err error
		if ok, err = c.log.isUpToDate(m.Index, m.LogTerm); err != nil {
			return err
		}
	}
	if !ok {
		c.send(&raftpb.Message{To: m.From, Type: resp, Term: c.term, Reject: true})
		return nil
	}
	// A granted pre-vote carries the term the candidate will use, so it
	// counts it; a vote is persisted (HardState) before this reply leaves.
	c.send(&raftpb.Message{To: m.From, Type: resp, Term: m.Term})
	if m.Type == raftpb.MessageType_MSG_VOTE {
		c.electionElapsed = 0
		c.vote = m.From
	}
	return nil
}

func stepCandidate(c *Core, m *raftpb.Message) error {
	switch m.Type {
	case raftpb.MessageType_MSG_APP, raftpb.MessageType_MSG_HEARTBEAT, raftpb.MessageType_MSG_SNAP:
		// A leader exists in this term.
		c.becomeFollower(m.Term, m.From)
		return stepFollower(c, m)
	case raftpb.MessageType_MSG_PRE_VOTE_RESP, raftpb.MessageType_MSG_VOTE_RESP:
		if (m.Type == raftpb.MessageType_MSG_PRE_VOTE_RESP) != (c.role == RolePreCandidate) {
			return nil
		}
		if _, seen := c.votes[m.From]; !seen {
			c.votes[m.From] = !m.Reject
		}
		switch c.quorum.result(c.votes) {
		case voteWon:
			if c.role == RolePreCandidate {
				return c.campaign(false, false)
			}
			if err := c.becomeLeader(); err != nil {
				return err
			}
			c.bcastAppend()
		case voteLost:
			c.becomeFollower(c.term, 0)
		}
	}
	return nil
}
