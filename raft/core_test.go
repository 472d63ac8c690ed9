package raft

import (
	"slices"
	"testing"

	"google.golang.org/protobuf/proto"

	"weedfs.dev/weed/raft/raftpb"
)

func TestElectionAndReplication(t *testing.T) {
	for _, pre := range []bool{false, true} {
		n := newTestNet(t, 3, func(c *CoreConfig) { c.PreVote = pre; c.CheckQuorum = true })
		n.campaign(1)
		if got := n.leader(); got != 1 {
			t.Fatalf("prevote=%v: leader %d, want 1", pre, got)
		}
		for _, d := range []string{"a", "b", "c"} {
			if _, err := n.propose(1, d); err != nil {
				t.Fatal(err)
			}
		}
		for _, id := range n.ids() {
			if got := n.appliedData(id); !slices.Equal(got, []string{"a", "b", "c"}) {
				t.Fatalf("peer %d applied %q", id, got)
			}
		}
		if _, _, err := n.cores[2].Propose([]byte("x")); err != ErrNotLeader {
			t.Fatalf("follower propose: %v, want ErrNotLeader", err)
		}
	}
}

// A follower appends a configuration change only once the commit index
// covering the previous change is persisted, so a restart never finds a
// change in its log whose predecessor it does not know committed (it would
// campaign in a stale configuration).
func TestConfChangeWaitsForDurableCommit(t *testing.T) {
	logs := NewMemoryLogStore()
	cc, _ := proto.Marshal(&raftpb.ConfChange{Changes: []*raftpb.ConfChange{voter(1), voter(2), voter(3)}})
	must(t, logs.Append([]*raftpb.Entry{{Index: 1, Term: 1, Type: raftpb.EntryType_ENTRY_CONF_CHANGE, Data: cc}, {Index: 2, Term: 2}}))
	c, err := NewCore(CoreConfig{ID: 2, ClusterID: 7, ElectionTick: 10, HeartbeatTick: 1, Log: logs},
		&raftpb.HardState{Term: 2, Commit: 2}, nil, nil)
	must(t, err)
	add4, _ := proto.Marshal(learner(4))
	add5, _ := proto.Marshal(learner(5))
	conf := raftpb.EntryType_ENTRY_CONF_CHANGE
	app := &raftpb.Message{Type: raftpb.MessageType_MSG_APP, ClusterId: 7, From: 1, To: 2, Term: 2, Index: 2, LogTerm: 2, Commit: 4,
		Entries: []*raftpb.Entry{{Index: 3, Term: 2, Type: conf, Data: add4}, {Index: 4, Term: 2}, {Index: 5, Term: 2, Type: conf, Data: add5}}}
	must(t, c.Step(app))
	rd := c.Ready()
	if len(rd.Entries) != 2 || rd.Entries[1].Index != 4 || rd.HardState.GetCommit() != 4 {
		t.Fatalf("first Ready: entries %v commit %v, want 3..4 committed, the second change held back", rd.Entries, rd.HardState)
	}
	if len(rd.Messages) != 2 || rd.Messages[0].Index != 4 || !rd.Messages[1].Reject || rd.Messages[1].RejectHint != 4 {
		t.Fatalf("responses %v, want an ack of 4 and a rewind to 5", rd.Messages)
	}
	must(t, logs.Append(rd.Entries))
	c.Advance(rd)
	// Once commit 4 is durable, the leader's resend is taken.
	must(t, c.Step(&raftpb.Message{Type: raftpb.MessageType_MSG_APP, ClusterId: 7, From: 1, To: 2, Term: 2, Index: 4, LogTerm: 2, Commit: 4,
		Entries: []*raftpb.Entry{{Index: 5, Term: 2, Type: conf, Data: add5}}}))
	if rd := c.Ready(); len(rd.Entries) != 1 || rd.Entries[0].Index != 5 {
		t.Fatalf("resend: entries %v, want 5", rd.Entries)
	}
}
