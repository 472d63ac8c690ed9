package raft

import (
	"errors"

	"weedfs.dev/weed/raft/raftpb"
)

func stepLeader(c *Core, m *raftpb.Message) error {
	pr := c.prs[m.From]
	if pr == nil {
		return nil // not (or no longer) a member
	}
	switch m.Type {
	case raftpb.MessageType_MSG_APP_RESP:
		pr.recentActive = true
		return c.handleAppResp(m, pr)
	case raftpb.MessageType_MSG_HEARTBEAT_RESP:
		pr.recentActive = true
		pr.probeSent = false
		if m.Index <= c.ticks {
			pr.leaseTick = max(pr.leaseTick, m.Index)
		}
		if pr.state == ProgressReplicate && pr.inflights.full() {
			pr.inflights.freeFirst()
		}
		if pr.match < c.log.lastIndex() || pr.state == ProgressProbe {
			c.maybeSendAppend(m.From, true)
		}
		if m.Context != nil {
			for _, r := range c.reads.ack(m.From, m.Context, c.quorum) {
				c.answerRead(r.from, r.index, r.ctx)
			}
		}
	case raftpb.MessageType_MSG_SNAP_STATUS:
		if pr.state != ProgressSnapshot {
			return nil
		}
		if m.Reject {
			pr.pendingSnapshot = 0
		}
		// Either way wait: for the follower's ack after a success, for a
		// heartbeat round before retrying after a failure.
		pr.becomeProbe()
		pr.probeSent = true
	case raftpb.MessageType_MSG_UNREACHABLE:
		if pr.state == ProgressReplicate {
			pr.becomeProbe()
		}
	case raftpb.MessageType_MSG_READ_INDEX:
		c.leaderRead(m.From, m.Context)
	}
	return nil
}

// appendEntries assigns term and index to new entries and appends them to
// the leader's log; the leader's own progress counts them as matched.
func (c *Core) appendEntries(ents ...*raftpb.Entry) error {
	last := c.log.lastIndex()
	for i, e := range ents {
		e.Term = c.term
		e.Index = last + 1 + uint64(i)
	}
	c.log.append(ents...)
	if pr := c.prs[c.id]; pr != nil {
		pr.maybeUpdate(c.log.lastIndex())
	}
	c.maybeCommit()
	return nil
}

// maybeCommit advances the commit index to what a quorum matched, if that
// entry is of this term.
func (c *Core) maybeCommit() bool {
	mci := c.quorum.committed(func(id uint64) uint64 {
		if pr := c.prs[id]; pr != nil {
			return pr.match
		}
		return 0
	})
	if !c.log.maybeCommit(mci, c.term) {
		return false
	}
	if len(c.earlyReads) > 0 {
		early := c.earlyReads
		c.earlyReads = nil
		for _, m := range early {
			c.leaderRead(m.From, m.Context)
		}
	}
	return true
}

func (c *Core) bcastAppend() {
	for _, id := range c.ids {
		if id != c.id {
			c.maybeSendAppend(id, true)
		}
	}
}

// maybeSendAppend sends the next entries (or a snapshot) to a follower
// unless its progress is paused; sendIfEmpty sends a MSG_APP without entries
// (to probe, or to carry the commit index). It reports whether it sent.
func (c *Core) maybeSendAppend(to uint64, sendIfEmpty bool) bool {
	pr := c.prs[to]
	if pr == nil || pr.paused() {
		return false
	}
	prevIndex := pr.next - 1
	prevTerm, errTerm := c.log.term(prevIndex)
	var ents []*raftpb.Entry
	var errEnts error
	if pr.state != ProgressReplicate || !pr.inflights.full() {
		ents, errEnts = c.log.entries(pr.next, c.log.lastIndex()+1, c.cfg.MaxSizePerMsg)
	}
	if len(ents) == 0 && !sendIfEmpty && errTerm == nil && errEnts == nil {
		return false
	}
	if errTerm != nil || errEnts != nil {
		if errors.Is(errTerm, ErrCompacted) || errors.Is(errEnts, ErrCompacted) {
			return c.sendSnapshot(to, pr)
		}
		c.logger.Warn("raft: read log to replicate", "id", c.id, "to", to, "term_err", errTerm, "entries_err", errEnts)
		return false
	}
	bytes := uint64(0)
	for _, e := range ents {
		bytes += uint64(len(e.Data))
	}
	c.send(&raftpb.Message{To: to, Type: raftpb.MessageType_MSG_APP, Index: prevIndex, LogTerm: prevTerm,
		Entries: ents, Commit: c.log.committed})
	last := prevIndex
	if len(ents) > 0 {
		last = ents[len(ents)-1].Index
	}
	pr.sentEntries(len(ents), last, bytes)
	return true
}

// sendSnapshot sends the latest snapshot's meta; the driver attaches its
// data. Peers not heard from recently are skipped (the send is costly).
func (c *Core) sendSnapshot(to uint64, pr *progress) bool {
	if !pr.recentActive {
		return false
	}
	if c.snapshot == nil {
		c.logger.Warn("raft: follower needs a snapshot but none is known", "id", c.id, "to", to)
		return false
	}
	c.send(&raftpb.Message{To: to, Type: raftpb.MessageType_MSG_SNAP, Snapshot: c.snapshot})
	pr.becomeSnapshot(c.snapshot.Index)
	return true
}

func (c *Core) bcastHeartbeat() {
	rctx := c.reads.lastContext()
	for _, id := range c.ids {
		if id == c.id {
			continue
		}
		// Never tell a follower to commit past what it is known to have.
		commit := min(c.prs[id].match, c.log.committed)
		c.send(&raftpb.Message{To: id, Type: raftpb.MessageType_MSG_HEARTBEAT, Commit: commit, Context: rctx, Index: c.ticks})
	}
}

func (c *Core) handleAppResp(m *raftpb.Message, pr *progress) error {
	if m.Reject {
		hint := m.RejectHint
		if m.HintTerm > 0 {
			// Skip every entry of a term the follower cannot have.
			hint, _ = c.log.findConflictByTerm(m.RejectHint, m.HintTerm)
		}
		if pr.maybeDecrTo(m.Index, hint) {
			if pr.state == ProgressReplicate {
				pr.becomeProbe()
			}
			c.maybeSendAppend(m.From, true)
		}
		return nil
	}
	if m.Index > c.log.lastIndex() {
		return nil // acknowledges entries we never sent
	}
	wasPaused := pr.paused()
	if !pr.maybeUpdate(m.Index) {
		return nil
	}
	switch pr.state {
	case ProgressProbe:
		pr.becomeReplicate()
	case ProgressSnapshot:
		if first, err := c.log.firstIndex(); err == nil && pr.match+1 >= first {
			pr.becomeProbe()
			pr.becomeReplicate()
		}
	case ProgressReplicate:
		pr.inflights.freeLE(m.Index)
	}
	if c.maybeCommit() {
		c.bcastAppend()
	} else if wasPaused {
		c.maybeSendAppend(m.From, true)
	}
	// Fill the pipeline.
	for c.role == RoleLeader && c.maybeSendAppend(m.From, false) {
	}
	if m.From == c.leadTransferee && pr.match == c.log.lastIndex() {
		c.sendTimeoutNow(m.From)
	}
	return nil
}

// leaderRead starts confirming a read for from (this peer or a follower).
func (c *Core) leaderRead(from uint64, rctx []byte) {
	committed, err := c.log.term(c.log.committed)
	if err != nil || committed != c.term {
		// Until an entry of this term commits, our commit index may lag
		// the previous leader's.
		c.earlyReads = append(c.earlyReads, &raftpb.Message{From: from, Context: rctx})
		return
	}
	if c.quorum.result(map[uint64]bool{c.id: true}) == voteWon || c.cfg.LeaseRead && c.leaseValid() {
		c.answerRead(from, c.log.committed, rctx)
		return
	}
	c.reads.add(c.log.committed, from, rctx, c.id)
	c.bcastHeartbeat()
}

// sendTimeoutNow tells the transfer target to campaign at once. Its voters
// will ignore their leases, so ours is void for the rest of the term (the
// message may arrive after the transfer was aborted).
func (c *Core) sendTimeoutNow(to uint64) {
	c.leaseVoid = true
	c.send(&raftpb.Message{To: to, Type: raftpb.MessageType_MSG_TIMEOUT_NOW})
}

// leaseValid reports whether no other leader can exist now: a quorum
// acknowledged a heartbeat sent at tick s, and each of those peers ignores
// vote requests for ElectionTick ticks after receiving it, so none is
// elected before s+ElectionTick by their clocks. A margin of a fifth of the
// timeout absorbs clock drift; a transfer gives the lease away.
func (c *Core) leaseValid() bool {
	if c.leadTransferee != 0 || c.leaseVoid {
		return false
	}
	s := c.quorum.committed(func(id uint64) uint64 {
		if id == c.id {
			return c.ticks
		}
		if pr := c.prs[id]; pr != nil {
			return pr.leaseTick
		}
		return 0
	})
	margin := uint64(max(1, c.cfg.ElectionTick/5))
	return s > 0 && c.ticks+margin < s+uint64(c.cfg.ElectionTick)
}

func (c *Core) answerRead(to, index uint64, rctx []byte) {
	if to == c.id {
		c.readStates = append(c.readStates, ReadState{Index: index, Context: rctx})
		return
	}
	c.send(&raftpb.Message{To: to, Type: raftpb.MessageType_MSG_READ_INDEX_RESP, Index: index, Context: rctx})
}
