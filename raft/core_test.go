package raft

import (
	"slices"
	"testing"
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
