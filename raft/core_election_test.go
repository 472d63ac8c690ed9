package raft

import (
	"testing"

	"weedfs.dev/weed/raft/raftpb"
)

func preVoteCheckQuorum(c *CoreConfig) { c.PreVote = true; c.CheckQuorum = true }

// A partitioned peer with PreVote never wins a pre-vote, so its term stays
// put, and on its return the leader is not disturbed.
func TestPreVotePreventsTermInflation(t *testing.T) {
	for _, pre := range []bool{true, false} {
		n := newTestNet(t, 3, func(c *CoreConfig) { c.PreVote = pre; c.CheckQuorum = true })
		n.campaign(1)
		term := n.cores[1].Status().Term
		n.isolate(3)
		n.tick(3, 100)
		got := n.cores[3].Status().Term
		if pre && got != term {
			t.Fatalf("prevote: isolated peer's term went %d -> %d", term, got)
		}
		if !pre && got <= term {
			t.Fatalf("without prevote the isolated peer should inflate its term (control), got %d", got)
		}
		n.heal()
		n.tickAll(3)
		if pre && (n.leader() != 1 || n.cores[1].Status().Term != term) {
			t.Fatalf("prevote: leader disturbed: leader %d term %d", n.leader(), n.cores[1].Status().Term)
		}
	}
}

// A leader that hears from no quorum for an election timeout steps down.
func TestCheckQuorumStepsDownIsolatedLeader(t *testing.T) {
	for _, cq := range []bool{true, false} {
		n := newTestNet(t, 3, func(c *CoreConfig) { c.CheckQuorum = cq })
		n.campaign(1)
		n.isolate(1)
		n.tick(1, 2*10+1)
		role := n.cores[1].Status().Role
		if cq && role != RoleFollower {
			t.Fatalf("checkquorum: isolated leader is %s", role)
		}
		if !cq && role != RoleLeader {
			t.Fatalf("without checkquorum the leader stays (control), is %s", role)
		}
	}
}

// With CheckQuorum, followers that heard from the leader recently ignore a
// vote request (leader stickiness), even of a higher term.
func TestLeaderStickiness(t *testing.T) {
	n := newTestNet(t, 3, func(c *CoreConfig) { c.CheckQuorum = true })
	n.campaign(1)
	term := n.cores[1].Status().Term
	n.isolate(3)
	n.campaign(3) // term+1, no PreVote
	n.heal()
	c3 := n.cores[3]
	c3.Campaign() // term+2: 1 and 2 ignore it (in lease)
	n.stabilize()
	if n.leader() != 1 || n.cores[2].Status().Term != term {
		t.Fatalf("leader %d, follower term %d, want leader 1 in term %d", n.leader(), n.cores[2].Status().Term, term)
	}
}

// A vote is persisted before it is sent: a restarted peer remembers it and
// does not grant another in the same term.
func TestRestartedPeerNeverVotesTwice(t *testing.T) {
	n := newTestNet(t, 3, nil)
	n.isolate(3)
	n.campaign(1) // 2 votes for 1
	term := n.cores[1].Status().Term
	if hs, _ := n.stable[2].HardState(); hs.Vote != 1 || hs.Term != term {
		t.Fatalf("persisted hard state %v, want vote 1 in term %d", hs, term)
	}
	n.crash(2)
	n.start(2, nil)
	last := n.cores[2].Status().LastIndex
	lastTerm, _ := n.logs[2].Term(last)
	n.cores[2].Step(&raftpb.Message{Type: raftpb.MessageType_MSG_VOTE, ClusterId: 7, From: 3, To: 2, Term: term, Index: last + 10, LogTerm: lastTerm + 1})
	rd := n.cores[2].Ready()
	for _, m := range rd.Messages {
		if m.Type == raftpb.MessageType_MSG_VOTE_RESP && !m.Reject {
			t.Fatalf("restarted peer voted twice in term %d: %v", term, m)
		}
	}
	if len(rd.Messages) != 1 {
		t.Fatalf("want one rejection, got %v", rd.Messages)
	}
}

// "Up to date" compares (last term, last index) lexicographically: a longer
// log of an older term loses to a shorter log of a newer term.
func TestVoteComparesTermThenIndex(t *testing.T) {
	cases := []struct {
		index, term uint64
		grant       bool
	}{
		{index: 100, term: 1, grant: false}, // longer, older term
		{index: 2, term: 3, grant: true},    // shorter, newer term
		{index: 3, term: 2, grant: true},    // same term, same length
		{index: 2, term: 2, grant: false},   // same term, shorter
		{index: 4, term: 2, grant: true},    // same term, longer
	}
	for _, tc := range cases {
		logs := NewMemoryLogStore()
		must(t, logs.Append([]*raftpb.Entry{{Index: 1, Term: 1}, {Index: 2, Term: 2}, {Index: 3, Term: 2}}))
		c, err := NewCore(CoreConfig{ID: 1, ClusterID: 7, ElectionTick: 10, HeartbeatTick: 1, Log: logs},
			&raftpb.HardState{Term: 2, Commit: 1}, nil, nil)
		must(t, err)
		must(t, c.Step(&raftpb.Message{Type: raftpb.MessageType_MSG_VOTE, ClusterId: 7, From: 2, To: 1, Term: 3, Index: tc.index, LogTerm: tc.term}))
		rd := c.Ready()
		if len(rd.Messages) != 1 || rd.Messages[0].Reject == tc.grant {
			t.Fatalf("candidate (%d,%d): got %v, want grant=%v", tc.term, tc.index, rd.Messages, tc.grant)
		}
		if tc.grant && (rd.HardState == nil || rd.HardState.Vote != 2 || rd.HardState.Term != 3) {
			t.Fatalf("granted vote not in the Ready's HardState: %v", rd.HardState)
		}
	}
}

// Raft paper figure 8: a leader must not commit an entry of an earlier term
// by counting replicas; it commits it only with an entry of its own term.
func TestOldTermEntryNotCommittedByCounting(t *testing.T) {
	n := newTestNet(t, 3, func(c *CoreConfig) { c.MaxSizePerMsg = 1 }) // one entry per MSG_APP
	n.campaign(1)
	// 1 appends "old" (term 2) that only it has.
	n.isolate(1)
	idx, err := n.propose(1, "old")
	must(t, err)
	oldTerm := n.cores[1].Status().Term
	// 2 wins term 3 with 3's vote, but its noop never reaches 3.
	n.filter = func(m *raftpb.Message) bool { return !(m.From == 2 && m.Type == raftpb.MessageType_MSG_APP) }
	n.campaign(2)
	if n.leader() != 2 {
		t.Fatalf("leader %d, want 2", n.leader())
	}
	// 1 returns, 2 leaves; 1 wins term 4 with 3's vote (its log is longer).
	// 1 learns term 3 from 2's heartbeats (2's entries still blocked).
	n.heal()
	n.tick(2, 1)
	if n.cores[1].Status().Role != RoleFollower {
		t.Fatalf("1 did not step down")
	}
	n.isolate(2)
	// From now on only the old-term entry reaches 3 (newer ones are cut
	// off the MSG_APP): a majority holds it, yet it must not commit.
	n.filter = func(m *raftpb.Message) bool {
		for i, e := range m.Entries {
			if e.Term > oldTerm {
				m.Entries = m.Entries[:i]
				break
			}
		}
		return true
	}
	n.campaign(1)
	term := n.cores[1].Status().Term
	if n.leader() != 1 || term <= oldTerm {
		t.Fatalf("leader %d term %d, want 1 in a term > %d", n.leader(), term, oldTerm)
	}
	n.tickAll(3)
	if got, err := n.logs[3].Term(idx); err != nil || got != oldTerm {
		t.Fatalf("3 holds term %d at %d (%v), want the old entry of term %d", got, idx, err, oldTerm)
	}
	if c := n.cores[1].Status().Commit; c >= idx {
		t.Fatalf("old-term entry %d committed by counting (commit %d)", idx, c)
	}
	n.filter = nil
	n.tickAll(2)
	if c := n.cores[1].Status().Commit; c < idx+1 {
		t.Fatalf("after the noop replicated commit is %d, want >= %d", c, idx+1)
	}
	if got := n.appliedData(3); len(got) != 1 || got[0] != "old" {
		t.Fatalf("3 applied %q, want [old]", got)
	}
}

// A peer at a higher term answers a stale leader's messages with its term
// (whatever PreVote and CheckQuorum say), so the leader steps down instead
// of waiting for a vote request that may never reach it.
func TestStaleLeaderLearnsHigherTerm(t *testing.T) {
	n := newTestNet(t, 3, nil)
	n.campaign(1)
	n.isolate(2)
	n.campaign(2) // term 3, alone
	n.campaign(2) // term 4
	// 2 hears only from 1 and answers only to 1: no vote request carries
	// its term anywhere.
	n.heal()
	n.filter = func(m *raftpb.Message) bool {
		return m.Type != raftpb.MessageType_MSG_VOTE && m.Type != raftpb.MessageType_MSG_PRE_VOTE
	}
	n.tick(1, 1)
	if st := n.cores[1].Status(); st.Role == RoleLeader || st.Term != n.cores[2].Status().Term {
		t.Fatalf("stale leader: role %s term %d, peer term %d", st.Role, st.Term, n.cores[2].Status().Term)
	}
}

// A candidate behind in terms learns the voters' term from their rejection
// and can win the next election, instead of campaigning below it forever.
func TestCandidateLearnsHigherTermFromRejection(t *testing.T) {
	n := newTestNet(t, 3, nil)
	n.isolate(2)
	for range 5 {
		n.campaign(2) // term 6, alone, with a short log
	}
	n.heal()
	n.isolate(3)
	n.cores[1].Campaign() // term 2: 2 rejects with term 6
	n.stabilize()
	if got, want := n.cores[1].Status().Term, n.cores[2].Status().Term; got != want {
		t.Fatalf("candidate term %d, want the voter's %d", got, want)
	}
}
