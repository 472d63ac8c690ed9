package raft_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"weedfs.dev/weed/raft"
	"weedfs.dev/weed/raft/raftpb"
)

func memberOf(cs *raftpb.ConfState, id uint64) (found, learner bool) {
	for _, m := range cs.GetMembers() {
		if m.Id == id {
			return true, m.Learner
		}
	}
	return false, false
}

func TestMembershipChanges(t *testing.T) {
	c := newMemCluster(t, 3, nil)
	lead := c.leader(10 * time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i := 0; i < 20; i++ {
		if err := propose(ctx, c.running, fmt.Sprintf("k%d=%d", i, i)); err != nil {
			t.Fatal(err)
		}
	}

	// A brand-new node joins as a learner and catches up.
	n4 := c.add(4, nil)
	if err := lead.r.AddLearner(ctx, 4, n4.addr); err != nil {
		t.Fatal(err)
	}
	converged(t, 10*time.Second, []*kvFSM{lead.fsm, n4.fsm}, 20)
	if found, learner := memberOf(lead.r.Status().Conf, 4); !found || !learner {
		t.Fatalf("node 4 in conf: found=%v learner=%v, want a learner", found, learner)
	}
	if st := n4.r.Status(); st.Role == raft.RoleLeader || st.Role == raft.RoleCandidate {
		t.Fatalf("a learner became %v", st.Role)
	}

	// Promote it, then remove an old voter, all while proposals flow.
	if err := lead.r.AddVoter(ctx, 4, n4.addr); err != nil {
		t.Fatal(err)
	}
	if found, learner := memberOf(lead.r.Status().Conf, 4); !found || learner {
		t.Fatal("node 4 not promoted to voter")
	}
	var victim *memNode
	for _, nd := range c.nodes {
		if nd != lead && nd.id != 4 {
			victim = nd
			break
		}
	}
	if err := lead.r.RemoveServer(ctx, victim.id); err != nil {
		t.Fatal(err)
	}
	if found, _ := memberOf(lead.r.Status().Conf, victim.id); found {
		t.Fatal("removed node still in the configuration")
	}
	victim.r.Close()
	victim.r = nil
	if err := propose(ctx, c.running, "after=members"); err != nil {
		t.Fatal(err)
	}
	var fsms []*kvFSM
	for _, nd := range c.nodes {
		if nd.r != nil {
			fsms = append(fsms, nd.fsm)
		}
	}
	converged(t, 10*time.Second, fsms, 21)

	// Leadership transfer to the promoted node. The core aborts a transfer
	// whose target does not catch up within an election timeout, which a
	// loaded machine can cause: try a few times.
	for try, from := 0, lead; ; try++ {
		err := from.r.TransferLeadership(ctx, 4)
		if err == nil {
			break
		}
		if !errors.Is(err, raft.ErrTransferFailed) || try == 3 {
			t.Fatal(err)
		}
		from = c.leader(10 * time.Second)
	}
	waitUntil(t, 5*time.Second, "node 4 to lead", func() bool { return n4.r.Status().Role == raft.RoleLeader })
	if err := lead.r.TransferLeadership(ctx, 4); !errors.Is(err, raft.ErrNotLeader) {
		t.Fatalf("transfer from a follower: %v", err)
	}
	if _, err := n4.r.Propose(ctx, []byte("new=leader")); err != nil {
		t.Fatal(err)
	}

	// Removing the leader itself: it steps down and the others go on.
	if err := n4.r.RemoveServer(ctx, 4); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 10*time.Second, "a new leader without node 4", func() bool {
		st := lead.r.Status()
		return st.Lead != 0 && st.Lead != 4
	})
	c.nodes[4].r.Close()
	c.nodes[4].r = nil
	if err := propose(ctx, c.running, "without=4"); err != nil {
		t.Fatal(err)
	}
}

func TestJointChange(t *testing.T) {
	c := newMemCluster(t, 3, nil)
	lead := c.leader(10 * time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	n4, n5 := c.add(4, nil), c.add(5, nil)
	err := lead.r.ChangeMembers(ctx, []*raftpb.ConfChange{
		{Type: raftpb.ConfChangeType_CONF_ADD_VOTER, Id: 4, Address: n4.addr},
		{Type: raftpb.ConfChangeType_CONF_ADD_VOTER, Id: 5, Address: n5.addr},
	})
	if err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 10*time.Second, "joint consensus to be left", func() bool {
		cs := lead.r.Status().Conf
		return len(cs.GetOutgoing()) == 0 && len(cs.GetMembers()) == 5
	})
	if err := propose(ctx, c.running, "five=1"); err != nil {
		t.Fatal(err)
	}
	converged(t, 10*time.Second, []*kvFSM{c.nodes[1].fsm, c.nodes[2].fsm, c.nodes[3].fsm, n4.fsm, n5.fsm}, 1)
}
