package raft

import (
	"errors"
	"slices"
	"testing"

	"google.golang.org/protobuf/proto"

	"weedfs.dev/weed/raft/raftpb"
)

func voter(id uint64) *raftpb.ConfChange {
	return &raftpb.ConfChange{Type: raftpb.ConfChangeType_CONF_ADD_VOTER, Id: id}
}

func learner(id uint64) *raftpb.ConfChange {
	return &raftpb.ConfChange{Type: raftpb.ConfChangeType_CONF_ADD_LEARNER, Id: id}
}

func remove(id uint64) *raftpb.ConfChange {
	return &raftpb.ConfChange{Type: raftpb.ConfChangeType_CONF_REMOVE, Id: id}
}

func TestApplyConfChangeRules(t *testing.T) {
	three := &raftpb.ConfState{Members: []*raftpb.Member{{Id: 1}, {Id: 2}, {Id: 3}}}
	joint := &raftpb.ConfState{Members: []*raftpb.Member{{Id: 1}, {Id: 4}}, Outgoing: []*raftpb.Member{{Id: 1}, {Id: 2}}}
	cases := []struct {
		name     string
		from     *raftpb.ConfState
		cc       *raftpb.ConfChange
		ok       bool
		voters   []uint64
		outgoing []uint64
	}{
		{"add voter", three, voter(4), true, []uint64{1, 2, 3, 4}, nil},
		{"add learner", three, learner(4), true, []uint64{1, 2, 3}, nil},
		{"demote voter", three, learner(3), true, []uint64{1, 2}, nil},
		{"remove", three, remove(2), true, []uint64{1, 3}, nil},
		{"remove unknown", three, remove(9), false, nil, nil},
		{"id zero", three, voter(0), false, nil, nil},
		{"two voters at once need joint", three, &raftpb.ConfChange{Changes: []*raftpb.ConfChange{voter(4), voter(5)}}, true, []uint64{1, 2, 3, 4, 5}, []uint64{1, 2, 3}},
		{"replace via joint", three, &raftpb.ConfChange{Changes: []*raftpb.ConfChange{voter(4), remove(3)}}, true, []uint64{1, 2, 4}, []uint64{1, 2, 3}},
		{"no change while joint", joint, voter(5), false, nil, nil},
		{"leave joint", joint, &raftpb.ConfChange{LeaveJoint: true}, true, []uint64{1, 4}, nil},
		{"leave joint when not joint", three, &raftpb.ConfChange{LeaveJoint: true}, false, nil, nil},
		{"last voter", &raftpb.ConfState{Members: []*raftpb.Member{{Id: 1}}}, remove(1), false, nil, nil},
		{"bootstrap", &raftpb.ConfState{}, &raftpb.ConfChange{Changes: []*raftpb.ConfChange{voter(1), voter(2), learner(3)}}, true, []uint64{1, 2}, nil},
	}
	for _, tc := range cases {
		got, err := applyConfChange(tc.from, tc.cc)
		if (err == nil) != tc.ok {
			t.Fatalf("%s: err %v, want ok=%v", tc.name, err, tc.ok)
		}
		if err != nil {
			if !errors.Is(err, errConfChange) {
				t.Fatalf("%s: error %v does not wrap errConfChange", tc.name, err)
			}
			continue
		}
		q := quorumOf(got)
		if v := sortedKeys(q.incoming); !slices.Equal(v, tc.voters) {
			t.Fatalf("%s: voters %v, want %v", tc.name, v, tc.voters)
		}
		if v := sortedKeys(q.outgoing); !slices.Equal(v, tc.outgoing) {
			t.Fatalf("%s: outgoing %v, want %v", tc.name, v, tc.outgoing)
		}
	}
}

func sortedKeys(m majority) []uint64 {
	var out []uint64
	for id := range m {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

func TestJointQuorum(t *testing.T) {
	q := jointQuorum{incoming: majority{1: {}, 4: {}, 5: {}}, outgoing: majority{1: {}, 2: {}, 3: {}}}
	match := map[uint64]uint64{1: 10, 2: 9, 3: 3, 4: 2, 5: 8}
	if got := q.committed(func(id uint64) uint64 { return match[id] }); got != 8 {
		t.Fatalf("joint committed %d, want min(8, 9) = 8", got)
	}
	if r := q.result(map[uint64]bool{1: true, 2: true, 3: true}); r != votePending {
		t.Fatalf("outgoing majority only: %v, want pending", r)
	}
	if r := q.result(map[uint64]bool{1: true, 2: true, 4: true}); r != voteWon {
		t.Fatalf("both majorities: %v, want won", r)
	}
	if r := q.result(map[uint64]bool{4: false, 5: false}); r != voteLost {
		t.Fatalf("incoming lost: %v, want lost", r)
	}
}

// applyAll makes every peer's core apply what it committed (stabilize does)
// and returns the leader's configuration voters.
func confVoters(c *Core) []uint64 {
	return sortedKeys(quorumOf(c.Status().Conf).incoming)
}

func TestAddLearnerThenPromote(t *testing.T) {
	n := newTestNet(t, 3, nil)
	n.campaign(1)
	_, _, err := n.cores[1].ProposeConfChange(learner(4))
	must(t, err)
	n.start(4, nil) // a new, empty peer
	n.stabilize()
	_, err = n.propose(1, "x")
	must(t, err)
	if got := n.appliedData(4); !slices.Equal(got, []string{"x"}) {
		t.Fatalf("learner applied %q, want [x]", got)
	}
	if st := n.cores[1].Status(); !st.Progress[4].Learner {
		t.Fatalf("4 is not a learner in the leader's progress: %+v", st.Progress[4])
	}
	// A learner never campaigns.
	n.tick(4, 100)
	if n.cores[4].Status().Role != RoleFollower || n.leader() != 1 {
		t.Fatalf("learner campaigned: role %s, leader %d", n.cores[4].Status().Role, n.leader())
	}
	// Learners do not count: with 2 and 3 down nothing commits.
	n.crash(2)
	n.crash(3)
	idx, err := n.propose(1, "y")
	must(t, err)
	if c := n.cores[1].Status().Commit; c >= idx {
		t.Fatalf("committed %d with a learner's ack only", c)
	}
	n.start(2, nil)
	n.start(3, nil)
	n.tickAll(2)
	_, _, err = n.cores[1].ProposeConfChange(voter(4))
	must(t, err)
	n.stabilize()
	n.tickAll(2)
	if got := confVoters(n.cores[4]); !slices.Equal(got, []uint64{1, 2, 3, 4}) {
		t.Fatalf("after promotion voters %v", got)
	}
}

func TestJointConsensusReplacesVoters(t *testing.T) {
	n := newTestNet(t, 3, nil)
	n.campaign(1)
	for _, id := range []uint64{4, 5} {
		_, _, err := n.cores[1].ProposeConfChange(learner(id))
		must(t, err)
		n.start(id, nil)
		n.stabilize()
	}
	// Replace 2 and 3 by 4 and 5 at once.
	cc := &raftpb.ConfChange{Changes: []*raftpb.ConfChange{voter(4), voter(5), remove(2), remove(3)}}
	_, _, err := n.cores[1].ProposeConfChange(cc)
	must(t, err)
	n.stabilize()
	n.tickAll(3)
	st := n.cores[1].Status()
	if len(st.Conf.Outgoing) != 0 {
		t.Fatalf("joint configuration not left: %v", st.Conf)
	}
	if got := confVoters(n.cores[1]); !slices.Equal(got, []uint64{1, 4, 5}) {
		t.Fatalf("voters %v, want [1 4 5]", got)
	}
	// Entering and leaving are two entries; a second change is refused
	// while one is pending.
	_, _, err = n.cores[1].ProposeConfChange(remove(4))
	must(t, err)
	if _, _, err := n.cores[1].ProposeConfChange(remove(5)); !errors.Is(err, ErrProposalDropped) {
		t.Fatalf("second pending change: %v, want ErrProposalDropped", err)
	}
}

func TestRemoveLeaderStepsDown(t *testing.T) {
	n := newTestNet(t, 3, func(c *CoreConfig) { c.PreVote = true; c.CheckQuorum = true })
	n.campaign(1)
	idx, _, err := n.cores[1].ProposeConfChange(remove(1))
	must(t, err)
	n.stabilize()
	if st := n.cores[1].Status(); st.Role == RoleLeader || st.Applied < idx {
		t.Fatalf("removed leader: role %s applied %d (change at %d)", st.Role, st.Applied, idx)
	}
	n.crash(1)
	n.tickAll(40)
	lead := n.leader()
	if lead != 2 && lead != 3 {
		t.Fatalf("no new leader among the remaining voters (leader %d)", lead)
	}
	_, err = n.propose(lead, "after")
	must(t, err)
	if got := n.appliedData(2); !slices.Contains(got, "after") {
		t.Fatalf("remaining cluster does not commit: %q", got)
	}
}

// FuzzApplyConfChange: any decoded change either is refused or yields a
// configuration with at least one voter, joint only when asked.
func FuzzApplyConfChange(f *testing.F) {
	for _, cc := range []*raftpb.ConfChange{
		voter(4), learner(2), remove(3),
		{Changes: []*raftpb.ConfChange{voter(4), remove(1), remove(2)}},
		{LeaveJoint: true},
		{Changes: []*raftpb.ConfChange{{Changes: []*raftpb.ConfChange{voter(9)}}}},
	} {
		b, err := proto.Marshal(cc)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, false)
		f.Add(b, true)
	}
	f.Fuzz(func(t *testing.T, b []byte, joint bool) {
		cc := &raftpb.ConfChange{}
		if proto.Unmarshal(b, cc) != nil {
			return
		}
		from := &raftpb.ConfState{Members: []*raftpb.Member{{Id: 1}, {Id: 2}, {Id: 3, Learner: true}}}
		if joint {
			from.Outgoing = []*raftpb.Member{{Id: 1}, {Id: 4}}
		}
		got, err := applyConfChange(from, cc)
		if err != nil {
			return
		}
		if len(quorumOf(got).incoming) == 0 {
			t.Fatalf("no voter left after %v: %v", cc, got)
		}
		if len(got.Outgoing) > 0 && len(cc.Changes) == 0 {
			t.Fatalf("joint without Changes: %v -> %v", cc, got)
		}
		if len(from.Members) != 3 {
			t.Fatalf("input configuration modified")
		}
	})
}
