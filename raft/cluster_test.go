package raft_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"runtime"
	"testing"
	"time"

	"weedfs.dev/weed/raft"
)

// checkComplete waits until every running node's FSM is identical and holds
// every acknowledged key with its value.
func checkComplete(t *testing.T, c *httpCluster, acked map[string]string, d time.Duration) {
	t.Helper()
	var detail string
	waitUntil(t, d, "identical, complete FSMs", func() bool {
		var ref map[string]string
		for _, nd := range c.live() {
			s, _, dupes := nd.fsm.state()
			if dupes != 0 {
				t.Fatalf("node %d applied entries twice", nd.id)
			}
			for k, v := range acked {
				if s[k] != v {
					detail = fmt.Sprintf("node %d lacks acknowledged %s=%s", nd.id, k, v)
					return false
				}
			}
			if ref == nil {
				ref = s
			} else if !maps.Equal(ref, s) {
				detail = fmt.Sprintf("node %d differs (%d keys vs %d)", nd.id, len(s), len(ref))
				return false
			}
		}
		return true
	})
	_ = detail
}

// TestClusterHTTPThreeNodes is the life of a 3-node cluster over loopback
// HTTP with fsynced WALs: election, load from several goroutines, the
// leader killed abruptly, a node cut off and back, membership changes under
// load (learner, promotion, removal), leadership transfer, and a restart of
// every node from its directory.
func TestClusterHTTPThreeNodes(t *testing.T) {
	// A 500 ms election timeout keeps the failover bound meaningful while a
	// loaded machine's scheduling stalls stay small beside it.
	c := newHTTPClusterWith(t, 3, func(_ uint64, cfg *raft.Config) { cfg.TickInterval = 50 * time.Millisecond })
	lead := c.leader(10 * time.Second)
	l := startLoad(c, 6, "a")
	l.waitMore(t, 200, 15*time.Second)

	// Kill the leader abruptly: a new leader within two election timeouts,
	// as a surviving follower sees it.
	var watcher *httpNode
	for _, nd := range c.live() {
		if nd != lead {
			watcher = nd
		}
	}
	changes := watcher.r.LeaderChanges()
	election := lead.cfg.ElectionTimeout()
	killed := time.Now()
	c.kill(lead)
	var took time.Duration
	for took == 0 {
		select {
		case lc := <-changes:
			if lc.LeaderID != 0 && lc.LeaderID != lead.id {
				took = time.Since(killed)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no new leader within 10s of killing the leader")
		}
	}
	newLead := c.leader(10 * time.Second)
	t.Logf("leader %d killed; %d leads after %v (election timeout %v)", lead.id, newLead.id, took, election)
	// The randomized timeout is at most 2x minus one tick; allow one
	// heartbeat of scheduling slack on a loaded machine.
	if limit := 2*election + lead.cfg.TickInterval*time.Duration(lead.cfg.HeartbeatTicks); took > limit {
		t.Errorf("new leader after %v, want within %v", took, limit)
	}
	l.waitMore(t, 100, 15*time.Second)
	c.stop(lead)
	c.start(lead) // back from its directory: catches up
	l.waitMore(t, 100, 15*time.Second)

	// Cut a follower off; the others go on; it catches up once back.
	var cut *httpNode
	for _, nd := range c.live() {
		if nd.r.Status().Role != raft.RoleLeader {
			cut = nd
			break
		}
	}
	cut.gate.block()
	l.waitMore(t, 300, 15*time.Second) // past SnapshotEntries: it may need a snapshot
	cut.gate.unblock()

	// Membership under load: a new node joins as a learner, is promoted,
	// and an original member is removed.
	n4 := c.newNode(4)
	n4.cfg.TickInterval = 50 * time.Millisecond
	c.start(n4)
	lead = c.leader(10 * time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := lead.r.AddLearner(ctx, 4, n4.addr); err != nil {
		t.Fatal(err)
	}
	l.waitMore(t, 50, 15*time.Second)
	waitUntil(t, 15*time.Second, "the learner to catch up", func() bool {
		return n4.r.Status().FSMApplied+50 >= lead.r.Status().Commit
	})
	lead = c.leader(10 * time.Second)
	if err := lead.r.AddVoter(ctx, 4, n4.addr); err != nil {
		t.Fatal(err)
	}
	var victim *httpNode
	for _, nd := range c.live() {
		if nd != lead && nd.id != 4 {
			victim = nd
			break
		}
	}
	lead = c.leader(10 * time.Second)
	if err := lead.r.RemoveServer(ctx, victim.id); err != nil {
		t.Fatal(err)
	}
	c.stop(victim)
	c.mu.Lock()
	delete(c.nodes, victim.id)
	c.mu.Unlock()
	l.waitMore(t, 100, 15*time.Second)

	// Leadership transfer to the newcomer.
	// The core aborts a transfer whose target does not catch up within an
	// election timeout, which a loaded machine can cause: a few tries.
	for try := 0; ; try++ {
		lead = c.leader(10 * time.Second)
		if lead.id == 4 {
			break
		}
		err := lead.r.TransferLeadership(ctx, 4)
		if err == nil {
			break
		}
		if !errors.Is(err, raft.ErrTransferFailed) || try == 3 {
			t.Fatal(err)
		}
	}
	if got := c.leader(10 * time.Second); got.id != 4 {
		t.Fatalf("leader %d after transfer to 4", got.id)
	}
	l.waitMore(t, 100, 15*time.Second)
	acked := l.finish()
	checkComplete(t, c, acked, 15*time.Second)
	t.Logf("%d proposals acknowledged", len(acked))

	// Restart every node from its directory: the same complete state.
	for _, nd := range c.all() {
		if err := c.stop(nd); err != nil {
			t.Fatalf("stop %d: %v", nd.id, err)
		}
	}
	for _, nd := range c.all() {
		c.start(nd)
		// More than SnapshotEntries were applied: each restarts from its
		// latest snapshot file plus the WAL after it.
		if st := nd.r.Status(); st.SnapshotIndex == 0 || st.FSMApplied < st.SnapshotIndex {
			t.Errorf("node %d restarted with snapshot %d, applied %d", nd.id, st.SnapshotIndex, st.FSMApplied)
		}
	}
	c.leader(10 * time.Second)
	if err := propose(ctx, c.rafts, "after=restart"); err != nil {
		t.Fatal(err)
	}
	acked["after"] = "restart"
	checkComplete(t, c, acked, 15*time.Second)
}

// TestClusterHTTPFiveNodes: a 5-node cluster keeps committing with two
// nodes down (one of them the leader), and refuses to with three down.
func TestClusterHTTPFiveNodes(t *testing.T) {
	c := newHTTPCluster(t, 5)
	lead := c.leader(10 * time.Second)
	l := startLoad(c, 4, "b")
	l.waitMore(t, 100, 15*time.Second)
	c.kill(lead)
	var other *httpNode
	for _, nd := range c.live() {
		if nd.r.Status().Role != raft.RoleLeader {
			other = nd
			break
		}
	}
	other.gate.block()
	c.leader(10 * time.Second)
	l.waitMore(t, 100, 15*time.Second)
	acked := l.finish()
	checkComplete(t, c, acked, 15*time.Second)

	// A third node down: no quorum, no commit.
	third := c.live()[0]
	third.gate.block()
	ctx, cancel := context.WithTimeout(context.Background(), 3*lead.cfg.ElectionTimeout())
	defer cancel()
	if err := propose(ctx, c.rafts, "minority=1"); err == nil {
		t.Fatal("two nodes of five committed a proposal")
	}
	// Back to a majority: progress again, everything acknowledged is there.
	third.gate.unblock()
	other.gate.unblock()
	ctx2, cancel2 := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel2()
	if err := propose(ctx2, c.rafts, "majority=1"); err != nil {
		t.Fatal(err)
	}
	acked["majority"] = "1"
	checkComplete(t, c, acked, 15*time.Second)
}

// TestClusterHTTPSnapshotCatchUp: a follower cut off while the others
// compact their logs catches up through a snapshot streamed over HTTP.
func TestClusterHTTPSnapshotCatchUp(t *testing.T) {
	const cutID = 3
	before := runtime.NumGoroutine()
	c := newHTTPClusterWith(t, 3, func(id uint64, cfg *raft.Config) {
		cfg.SnapshotEntries, cfg.TrailingEntries = 40, 10
		if id == cutID {
			cfg.SnapshotEntries = 1 << 40 // it never snapshots itself
		}
	})
	lead := c.leader(10 * time.Second)
	if lead.id == cutID {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for try := 0; lead.id == cutID; try++ {
			if err := lead.r.TransferLeadership(ctx, 1); err != nil && try == 3 {
				t.Fatal(err)
			}
			lead = c.leader(10 * time.Second)
		}
	}
	cut := c.nodes[cutID]
	cut.gate.block()
	l := startLoad(c, 4, "s")
	l.waitMore(t, 200, 15*time.Second)
	acked := l.finish()
	cut.gate.unblock()
	checkComplete(t, c, acked, 15*time.Second)
	st := cut.r.Status()
	if st.SnapshotIndex == 0 {
		t.Fatal("the cut-off follower caught up without a snapshot")
	}
	meta, rc, err := cut.snaps.Latest()
	if err != nil {
		t.Fatal(err)
	}
	rc.Close()
	if meta.Index != st.SnapshotIndex || len(meta.Conf.GetMembers()) != 3 {
		t.Fatalf("stored snapshot %d with %d members, status says %d", meta.Index, len(meta.Conf.GetMembers()), st.SnapshotIndex)
	}
	// Closing every node (servers, nodes, connections) leaks no goroutine.
	c.closeAll()
	waitUntil(t, 10*time.Second, fmt.Sprintf("goroutines back to %d", before), func() bool {
		return runtime.NumGoroutine() <= before
	})
}
