package raft_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"weedfs.dev/weed/raft"
	"weedfs.dev/weed/raft/memtransport"
)

func smallSnapshots(c *raft.Config) {
	c.SnapshotEntries = 50
	c.TrailingEntries = 10
}

// A follower cut off while the log is compacted past its position catches up
// through a snapshot sent by the leader.
func TestLaggingFollowerCatchesUpBySnapshot(t *testing.T) {
	c := newMemCluster(t, 3, smallSnapshots)
	lead := c.leader(10 * time.Second)
	var lag *memNode
	for _, nd := range c.nodes {
		if nd != lead {
			lag = nd
			break
		}
	}
	c.net.Isolate(lag.addr)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const n = 300
	for i := 0; i < n; i++ {
		if err := propose(ctx, func() []*raft.Raft { return []*raft.Raft{lead.r} }, fmt.Sprintf("k%d=%d", i, i)); err != nil {
			t.Fatal(err)
		}
	}
	st := lead.r.Status()
	if st.SnapshotIndex == 0 {
		t.Fatal("leader took no automatic snapshot after 300 entries with SnapshotEntries=50")
	}
	first, _ := lead.logs.FirstIndex()
	if first <= 2 {
		t.Fatalf("leader log not compacted: first index %d", first)
	}
	c.net.Heal()
	converged(t, 15*time.Second, []*kvFSM{c.nodes[1].fsm, c.nodes[2].fsm, c.nodes[3].fsm}, n)
	if lag.r.Status().SnapshotIndex == 0 {
		t.Fatal("the lagging follower converged without receiving a snapshot")
	}
}

// A node restarted from its stores restores the latest snapshot and
// re-applies the committed entries after it: same state, nothing lost.
func TestRestartFromStores(t *testing.T) {
	c := newMemCluster(t, 3, smallSnapshots)
	c.leader(10 * time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i := 0; i < 120; i++ {
		if err := propose(ctx, c.running, fmt.Sprintf("k%d=%d", i, i)); err != nil {
			t.Fatal(err)
		}
	}
	want := converged(t, 10*time.Second, []*kvFSM{c.nodes[1].fsm, c.nodes[2].fsm, c.nodes[3].fsm}, 120)
	for _, nd := range c.nodes {
		if err := nd.r.Close(); err != nil {
			t.Fatal(err)
		}
	}
	for _, nd := range c.nodes {
		c.start(nd)
	}
	c.leader(10 * time.Second)
	if err := propose(ctx, c.running, "after=restart"); err != nil {
		t.Fatal(err)
	}
	got := converged(t, 10*time.Second, []*kvFSM{c.nodes[1].fsm, c.nodes[2].fsm, c.nodes[3].fsm}, 121)
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("after restart %s = %q, want %q", k, got[k], v)
		}
	}
}

func TestManualSnapshotAndCompactAt(t *testing.T) {
	c := newMemCluster(t, 1, func(cfg *raft.Config) { cfg.SnapshotEntries = 0; cfg.SnapshotBytes = 0; cfg.TrailingEntries = 5 })
	lead := c.leader(5 * time.Second)
	ctx := context.Background()
	for i := 0; i < 40; i++ {
		if _, err := lead.r.Propose(ctx, []byte(fmt.Sprintf("k%d=%d", i, i))); err != nil {
			t.Fatal(err)
		}
	}
	if st := lead.r.Status(); st.SnapshotIndex != 0 {
		t.Fatalf("automatic snapshot taken with triggers disabled: %d", st.SnapshotIndex)
	}
	if err := lead.r.Snapshot(ctx); err != nil {
		t.Fatal(err)
	}
	st := lead.r.Status()
	if st.SnapshotIndex != st.FSMApplied {
		t.Fatalf("Snapshot at %d, applied %d", st.SnapshotIndex, st.FSMApplied)
	}
	waitUntil(t, 5*time.Second, "compaction", func() bool {
		first, _ := lead.logs.FirstIndex()
		return first == st.SnapshotIndex-5+1
	})

	// CompactAt with the application's own bytes: a restart restores them.
	for i := 40; i < 50; i++ {
		if _, err := lead.r.Propose(ctx, []byte(fmt.Sprintf("k%d=%d", i, i))); err != nil {
			t.Fatal(err)
		}
	}
	applied := lead.r.Status().FSMApplied
	if err := lead.r.CompactAt(ctx, applied+1, nil); err == nil {
		t.Fatal("CompactAt past the applied index succeeded")
	}
	own := `{"Last":` + fmt.Sprint(applied) + `,"Data":{"own":"snapshot"}}`
	if err := lead.r.CompactAt(ctx, applied, []byte(own)); err != nil {
		t.Fatal(err)
	}
	if got := lead.r.Status().SnapshotIndex; got != applied {
		t.Fatalf("SnapshotIndex %d after CompactAt(%d)", got, applied)
	}
	if err := lead.r.Close(); err != nil {
		t.Fatal(err)
	}
	c.start(lead)
	if v, ok := lead.fsm.get("own"); !ok || v != "snapshot" {
		t.Fatal("restart did not restore the application's snapshot")
	}
}

// Under drops, duplicates, reordering and delays the cluster still agrees.
func TestFaultyNetworkConverges(t *testing.T) {
	c := newMemCluster(t, 3, smallSnapshots)
	c.net.SetFaults(memtransport.Faults{Drop: 0.05, Duplicate: 0.05, Reorder: 0.05, Jitter: 3 * time.Millisecond})
	c.leader(20 * time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	for i := 0; i < 150; i++ {
		if err := propose(ctx, c.running, fmt.Sprintf("k%d=%d", i, i)); err != nil {
			t.Fatal(err)
		}
	}
	converged(t, 20*time.Second, []*kvFSM{c.nodes[1].fsm, c.nodes[2].fsm, c.nodes[3].fsm}, 150)
	if s := c.net.Stats(); s.Dropped == 0 || s.Duplicated == 0 || s.Reordered == 0 {
		t.Fatalf("faults did not happen: %+v", s)
	}
}

// A commit index that advanced without new entries is not synced on its
// own, but Close saves it: the HardState on disk names every applied entry.
func TestCloseSavesCommit(t *testing.T) {
	c := newMemCluster(t, 3, nil)
	lead := c.leader(10 * time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for i := 0; i < 10; i++ {
		if _, err := lead.r.Propose(ctx, []byte(fmt.Sprintf("k%d=v", i))); err != nil {
			t.Fatal(err)
		}
	}
	commit := lead.r.Status().Commit
	if err := lead.r.Close(); err != nil {
		t.Fatal(err)
	}
	hs, err := lead.stable.HardState()
	if err != nil {
		t.Fatal(err)
	}
	if hs.Commit < commit {
		t.Fatalf("HardState on disk has commit %d, the node had committed %d", hs.Commit, commit)
	}
}

// A commit that covers a configuration change is synced at once: a node
// that crashes (no Close) restarts knowing the new configuration.
func TestConfChangeCommitIsDurable(t *testing.T) {
	c := newMemCluster(t, 3, nil)
	lead := c.leader(10 * time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	n4 := c.add(4, nil)
	if err := lead.r.AddLearner(ctx, 4, n4.addr); err != nil {
		t.Fatal(err)
	}
	// The change may be applied (early) while its commit is being synced:
	// wait, with no new entry that would carry the commit along.
	applied := lead.r.Status().FSMApplied
	waitUntil(t, 5*time.Second, fmt.Sprintf("commit %d on disk", applied), func() bool {
		hs, err := lead.stable.HardState()
		return err == nil && hs.Commit >= applied
	})
}
