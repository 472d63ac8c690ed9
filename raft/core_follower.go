package raft

import (
	"google.golang.org/protobuf/proto"

	"weedfs.dev/weed/raft/raftpb"
)

func stepFollower(c *Core, m *raftpb.Message) error {
	switch m.Type {
	case raftpb.MessageType_MSG_APP:
		c.electionElapsed = 0
		c.lead = m.From
		return c.handleAppend(m)
	case raftpb.MessageType_MSG_HEARTBEAT:
		c.electionElapsed = 0
		c.lead = m.From
		c.log.commitTo(min(m.Commit, c.log.lastIndex()))
		// Index echoes the leader's clock for its lease.
		c.send(&raftpb.Message{To: m.From, Type: raftpb.MessageType_MSG_HEARTBEAT_RESP, Context: m.Context, Index: m.Index})
	case raftpb.MessageType_MSG_SNAP:
		c.electionElapsed = 0
		c.lead = m.From
		c.handleSnapshot(m)
	case raftpb.MessageType_MSG_TIMEOUT_NOW:
		// The leader hands over: campaign at once, skipping PreVote and
		// the voters' leader stickiness.
		return c.hup(true)
	case raftpb.MessageType_MSG_READ_INDEX_RESP:
		c.readStates = append(c.readStates, ReadState{Index: m.Index, Context: m.Context})
	}
	return nil
}

func (c *Core) handleAppend(m *raftpb.Message) error {
	if m.Index < c.log.committed {
		c.send(&raftpb.Message{To: m.From, Type: raftpb.MessageType_MSG_APP_RESP, Index: c.log.committed})
		return nil
	}
	ents := c.confSafePrefix(m)
	lastNew, ok, err := c.log.maybeAppend(m.Index, m.LogTerm, m.Commit, ents)
	if err != nil {
		return err
	}
	if ok {
		c.send(&raftpb.Message{To: m.From, Type: raftpb.MessageType_MSG_APP_RESP, Index: lastNew})
		if len(ents) < len(m.Entries) {
			// A configuration change was held back: have the leader rewind
			// to it (a rejection past our match) instead of waiting for a
			// heartbeat to notice.
			c.send(&raftpb.Message{To: m.From, Type: raftpb.MessageType_MSG_APP_RESP, Index: lastNew + 1,
				Reject: true, RejectHint: lastNew})
		}
		return nil
	}
	// Hint the leader at the last entry that may match: at most our last
	// index, and none of a term above the leader's previous term.
	hint, hintTerm := c.log.findConflictByTerm(min(m.Index, c.log.lastIndex()), m.LogTerm)
	c.send(&raftpb.Message{To: m.From, Type: raftpb.MessageType_MSG_APP_RESP, Index: m.Index,
		Reject: true, RejectHint: hint, HintTerm: hintTerm})
	return nil
}

func (c *Core) handleSnapshot(m *raftpb.Message) {
	s := m.Snapshot
	if s.Index <= c.log.committed {
		c.send(&raftpb.Message{To: m.From, Type: raftpb.MessageType_MSG_APP_RESP, Index: c.log.committed})
		return
	}
	if c.log.matchTerm(s.Index, s.Term) {
		// We have the snapshot's last entry: it is committed, nothing to
		// install.
		c.log.commitTo(s.Index)
		c.send(&raftpb.Message{To: m.From, Type: raftpb.MessageType_MSG_APP_RESP, Index: c.log.committed})
		return
	}
	c.logger.Debug("raft: installing snapshot", "id", c.id, "index", s.Index, "term", s.Term)
	s = proto.Clone(s).(*raftpb.SnapshotMeta)
	c.log.restore(s)
	c.snapshot = s
	conf := s.GetConf()
	if conf == nil {
		conf = &raftpb.ConfState{}
	}
	c.setConf(conf)
	c.send(&raftpb.Message{To: m.From, Type: raftpb.MessageType_MSG_APP_RESP, Index: c.log.lastIndex()})
}

// confSafePrefix returns the entries of m the follower may append now. A
// configuration change at index e is held back (the leader resends it) until
// the persisted commit index covers the previous configuration change, which
// is at most min(m.Commit, e-1) since a leader proposes a change only once
// the previous one is applied. At most one change is taken per append: the
// next one's predecessor would be that unpersisted one.
func (c *Core) confSafePrefix(m *raftpb.Message) []*raftpb.Entry {
	seen := false
	for i, e := range m.Entries {
		if e.Type != raftpb.EntryType_ENTRY_CONF_CHANGE {
			continue
		}
		if seen || c.stableCommit < min(m.Commit, e.Index-1) {
			if c.log.matchTerm(e.Index, e.Term) {
				// Already in our log (appended safely before): keep going.
				continue
			}
			return m.Entries[:i]
		}
		seen = true
	}
	return m.Entries
}
