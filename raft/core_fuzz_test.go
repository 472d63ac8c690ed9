package raft

import (
	"testing"

	"google.golang.org/protobuf/proto"

	"weedfs.dev/weed/raft/raftpb"
)

// fuzzCore returns a core as leader (role 0) or follower (role 1) of a
// three-peer cluster with a few entries and a snapshot meta.
func fuzzCore(t *testing.T, leader bool) *Core {
	n := newTestNet(t, 3, func(c *CoreConfig) { c.PreVote = true; c.CheckQuorum = true })
	n.campaign(1)
	for range 3 {
		_, err := n.propose(1, "data")
		must(t, err)
	}
	st := n.cores[1].Status()
	n.cores[1].SetSnapshot(&raftpb.SnapshotMeta{Index: st.Applied, Term: st.Term, Conf: st.Conf})
	if leader {
		return n.cores[1]
	}
	return n.cores[2]
}

// FuzzStep: no message, however malformed, panics Step or breaks the
// core's invariants.
func FuzzStep(f *testing.F) {
	for _, m := range []*raftpb.Message{
		{Type: raftpb.MessageType_MSG_APP, Term: 2, Index: 5, LogTerm: 2, Commit: 9, Entries: []*raftpb.Entry{{Index: 6, Term: 2}, {Index: 7, Term: 2}}},
		{Type: raftpb.MessageType_MSG_APP, Term: 3, Index: 1, LogTerm: 1, Entries: []*raftpb.Entry{{Index: 2, Term: 3}}},
		{Type: raftpb.MessageType_MSG_APP_RESP, Term: 2, Index: 100},
		{Type: raftpb.MessageType_MSG_APP_RESP, Term: 2, Index: 3, Reject: true, RejectHint: 1, HintTerm: 7},
		{Type: raftpb.MessageType_MSG_VOTE, Term: 9, Index: 40, LogTerm: 8},
		{Type: raftpb.MessageType_MSG_PRE_VOTE, Term: 9, Index: 1, LogTerm: 1},
		{Type: raftpb.MessageType_MSG_VOTE_RESP, Term: 2},
		{Type: raftpb.MessageType_MSG_HEARTBEAT, Term: 2, Commit: 1 << 40},
		{Type: raftpb.MessageType_MSG_HEARTBEAT_RESP, Term: 2, Context: []byte{0, 0, 0, 0, 0, 0, 0, 9}},
		{Type: raftpb.MessageType_MSG_SNAP, Term: 2, Snapshot: &raftpb.SnapshotMeta{Index: 50, Term: 2}},
		{Type: raftpb.MessageType_MSG_SNAP_STATUS, Reject: true},
		{Type: raftpb.MessageType_MSG_TIMEOUT_NOW, Term: 2},
		{Type: raftpb.MessageType_MSG_READ_INDEX, Term: 2, Context: []byte("r")},
		{Type: raftpb.MessageType_MSG_READ_INDEX_RESP, Term: 2, Index: 1 << 50},
		{Type: raftpb.MessageType_MSG_UNREACHABLE},
	} {
		b, err := proto.Marshal(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, uint8(0), uint8(2))
		f.Add(b, uint8(1), uint8(1))
	}
	f.Fuzz(func(t *testing.T, b []byte, role, from uint8) {
		m := &raftpb.Message{}
		if proto.Unmarshal(b, m) != nil {
			return
		}
		leader := role%2 == 0
		c := fuzzCore(t, leader)
		// Mostly address it properly, so the checks behind the envelope
		// are reached.
		if role&2 == 0 {
			m.ClusterId, m.To = 7, c.id
			m.From = uint64(from%4) + 1
		}
		_ = c.Step(m)
		for range 3 {
			c.Tick()
		}
		rd := c.Ready()
		c.Advance(rd)
		st := c.Status()
		if st.Commit > st.LastIndex {
			t.Fatalf("commit %d past last index %d", st.Commit, st.LastIndex)
		}
		if st.Role == RoleLeader && st.Lead != c.id {
			t.Fatalf("leader with lead %d", st.Lead)
		}
	})
}
