package raft_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"weedfs.dev/weed/raft"
	"weedfs.dev/weed/raft/memtransport"
	"weedfs.dev/weed/raft/raftpb"
)

func TestConfigValidate(t *testing.T) {
	good := testConfig(1)
	if err := good.Validate(); err != nil {
		t.Fatalf("test config invalid: %v", err)
	}
	d := raft.DefaultConfig()
	d.ID = 1
	if err := d.Validate(); err != nil {
		t.Fatalf("default config with an ID invalid: %v", err)
	}
	if d.ElectionTimeout() != time.Second {
		t.Fatalf("default election timeout %v, want 1s", d.ElectionTimeout())
	}
	cases := map[string]func(*raft.Config){
		"zero ID":                      func(c *raft.Config) { c.ID = 0 },
		"zero tick":                    func(c *raft.Config) { c.TickInterval = 0 },
		"heartbeat >= election":        func(c *raft.Config) { c.HeartbeatTicks = c.ElectionTicks },
		"too few heartbeats":           func(c *raft.Config) { c.HeartbeatTicks = 4; c.ElectionTicks = 10 },
		"lease read without quorum":    func(c *raft.Config) { c.LeaseRead, c.CheckQuorum = true, false },
		"zero message size":            func(c *raft.Config) { c.MaxSizePerMsg = 0 },
		"zero inflight":                func(c *raft.Config) { c.MaxInflightMsgs = 0 },
		"inflight bytes < message":     func(c *raft.Config) { c.MaxInflightBytes = c.MaxSizePerMsg - 1 },
		"zero batch":                   func(c *raft.Config) { c.MaxBatchEntries = 0 },
		"zero queue":                   func(c *raft.Config) { c.ProposalQueue = 0 },
		"trailing >= snapshot entries": func(c *raft.Config) { c.TrailingEntries = c.SnapshotEntries },
	}
	for name, mutate := range cases {
		c := good
		mutate(&c)
		if err := c.Validate(); !errors.Is(err, raft.ErrBadConfig) {
			t.Errorf("%s: Validate = %v, want ErrBadConfig", name, err)
		}
	}
	if _, err := raft.New(raft.Config{}, newKV(), raft.NewMemoryLogStore(), raft.NewMemoryStableStore(), raft.NewMemorySnapshotStore(), memtransport.NewNetwork(1).NewTransport("x")); !errors.Is(err, raft.ErrBadConfig) {
		t.Fatalf("New with a zero config: %v", err)
	}
}

func TestSingleNode(t *testing.T) {
	c := newMemCluster(t, 1, nil)
	lead := c.leader(5 * time.Second)
	ctx := context.Background()
	for i := 1; i <= 10; i++ {
		res, err := lead.r.Propose(ctx, []byte(fmt.Sprintf("k%d=v%d", i, i)))
		if err != nil {
			t.Fatal(err)
		}
		if res != i {
			t.Fatalf("proposal %d returned %v, want the FSM's count %d", i, res, i)
		}
	}
	if v, _ := lead.fsm.get("k7"); v != "v7" {
		t.Fatalf("k7 = %q", v)
	}
	if err := lead.r.Bootstrap(ctx, []*raftpb.Member{{Id: 1}}); !errors.Is(err, raft.ErrNotBootstrappable) {
		t.Fatalf("second Bootstrap: %v", err)
	}
}

func TestThreeNodesConcurrentProposals(t *testing.T) {
	c := newMemCluster(t, 3, nil)
	lead := c.leader(10 * time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	const workers, each = 8, 50
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				if err := propose(ctx, c.running, fmt.Sprintf("w%d-%d=%d", w, i, i)); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	converged(t, 10*time.Second, []*kvFSM{c.nodes[1].fsm, c.nodes[2].fsm, c.nodes[3].fsm}, workers*each)
	st := lead.r.Status()
	if st.Commit < workers*each || st.FSMApplied < workers*each {
		t.Fatalf("leader status commit %d applied %d, want >= %d", st.Commit, st.FSMApplied, workers*each)
	}
}

func TestFollowerProposeNamesLeader(t *testing.T) {
	c := newMemCluster(t, 3, nil)
	lead := c.leader(10 * time.Second)
	var follower *memNode
	for _, nd := range c.nodes {
		if nd != lead {
			follower = nd
			break
		}
	}
	_, err := follower.r.Propose(context.Background(), []byte("a=b"))
	var nle *raft.NotLeaderError
	if !errors.Is(err, raft.ErrNotLeader) || !errors.As(err, &nle) {
		t.Fatalf("Propose on a follower: %v, want a *NotLeaderError", err)
	}
	if nle.LeaderID != lead.id || nle.LeaderAddr != lead.addr {
		t.Fatalf("NotLeaderError names %d at %q, want %d at %q", nle.LeaderID, nle.LeaderAddr, lead.id, lead.addr)
	}
	if id, addr := follower.r.Leader(); id != lead.id || addr != lead.addr || follower.r.IsLeader() {
		t.Fatalf("follower's Leader() = %d %q, IsLeader %v", id, addr, follower.r.IsLeader())
	}
	if !lead.r.IsLeader() {
		t.Fatal("the leader's IsLeader() is false")
	}
}

func TestLeaderIsolatedNewLeaderElected(t *testing.T) {
	c := newMemCluster(t, 3, nil)
	old := c.leader(10 * time.Second)
	changes := c.nodes[old.id%3+1].r.LeaderChanges()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := propose(ctx, c.running, "before=1"); err != nil {
		t.Fatal(err)
	}
	c.net.Isolate(old.addr)
	cut := time.Now()
	var newLead uint64
	timeout := time.After(15 * time.Second)
	for newLead == 0 {
		select {
		case lc := <-changes:
			if lc.LeaderID != 0 && lc.LeaderID != old.id {
				newLead = lc.LeaderID
			}
		case <-timeout:
			t.Fatal("no new leader after isolating the old one")
		}
	}
	t.Logf("new leader %d after %v", newLead, time.Since(cut))
	// The isolated leader steps down (CheckQuorum) and refuses proposals.
	waitUntil(t, 10*time.Second, "the isolated leader to step down", func() bool {
		return old.r.Status().Role != raft.RoleLeader
	})
	short, cancelShort := context.WithTimeout(ctx, 200*time.Millisecond)
	_, err := old.r.Propose(short, []byte("lost=1"))
	cancelShort()
	if err == nil {
		t.Fatal("an isolated former leader accepted a proposal")
	}
	if err := propose(ctx, func() []*raft.Raft { return []*raft.Raft{c.nodes[newLead].r} }, "after=1"); err != nil {
		t.Fatal(err)
	}
	c.net.Heal()
	converged(t, 10*time.Second, []*kvFSM{c.nodes[1].fsm, c.nodes[2].fsm, c.nodes[3].fsm}, 2)
}

func TestLinearizableRead(t *testing.T) {
	c := newMemCluster(t, 3, nil)
	lead := c.leader(10 * time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, nd := range c.nodes {
		// Write through the leader, then read on every node: the read must
		// see the write once LinearizableRead returns.
		key := fmt.Sprintf("read%d", nd.id)
		if _, err := lead.r.Propose(ctx, []byte(key+"=x")); err != nil {
			t.Fatal(err)
		}
		if err := nd.r.LinearizableRead(ctx); err != nil {
			t.Fatalf("read on %d: %v", nd.id, err)
		}
		if v, ok := nd.fsm.get(key); !ok || v != "x" {
			t.Fatalf("node %d read %q after LinearizableRead, want the committed write", nd.id, v)
		}
	}
	// A node cut off from everyone cannot serve a linearizable read.
	c.net.Isolate(lead.addr)
	short, cancelShort := context.WithTimeout(ctx, 2*lead.cfg.ElectionTimeout())
	defer cancelShort()
	if err := lead.r.LinearizableRead(short); err == nil {
		t.Fatal("an isolated leader served a linearizable read")
	}
}

func TestStorageErrorStopsNode(t *testing.T) {
	net := memtransport.NewNetwork(1)
	logs := &failingLog{MemoryLogStore: raft.NewMemoryLogStore()}
	r, err := raft.New(testConfig(1), newKV(), logs, raft.NewMemoryStableStore(), raft.NewMemorySnapshotStore(), net.NewTransport("n1"))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx := context.Background()
	if err := r.Bootstrap(ctx, []*raftpb.Member{{Id: 1, Address: "n1"}}); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 5*time.Second, "leadership", func() bool { return r.Status().Role == raft.RoleLeader })
	if _, err := r.Propose(ctx, []byte("a=1")); err != nil {
		t.Fatal(err)
	}
	logs.arm()
	_, err = r.Propose(ctx, []byte("b=2"))
	if !errors.Is(err, raft.ErrClosed) || !errors.Is(err, errDiskGone) {
		t.Fatalf("Propose when the disk fails: %v, want ErrClosed wrapping the disk error", err)
	}
	if st := r.Status(); !errors.Is(st.Err, errDiskGone) {
		t.Fatalf("Status().Err = %v", st.Err)
	}
	if _, err := r.Propose(ctx, []byte("c=3")); !errors.Is(err, raft.ErrClosed) {
		t.Fatalf("Propose on a stopped node: %v", err)
	}
	if err := r.Close(); !errors.Is(err, errDiskGone) {
		t.Fatalf("Close = %v, want the disk error", err)
	}
}

func TestCloseLeaksNoGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	func() {
		c := newMemCluster(t, 3, nil)
		lead := c.leader(10 * time.Second)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for i := 0; i < 20; i++ {
			if _, err := lead.r.Propose(ctx, []byte(fmt.Sprintf("k%d=v", i))); err != nil {
				t.Fatal(err)
			}
		}
		// A proposal and a read in flight while closing must return.
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { defer wg.Done(); lead.r.Propose(ctx, []byte("late=1")) }()
		go func() { defer wg.Done(); lead.r.LinearizableRead(ctx) }()
		c.closeAll()
		wg.Wait()
		for _, nd := range c.nodes {
			if _, err := nd.r.Propose(ctx, []byte("x=1")); !errors.Is(err, raft.ErrClosed) {
				t.Fatalf("Propose after Close: %v", err)
			}
			if err := nd.r.Close(); err != nil {
				t.Fatalf("second Close: %v", err)
			}
		}
	}()
	waitUntil(t, 10*time.Second, fmt.Sprintf("goroutines back to %d", before), func() bool {
		return runtime.NumGoroutine() <= before
	})
}

// A proposal whose context ends stops waiting with the context's error,
// even though its entry stays in the log (it may commit later).
func TestProposeContextEnds(t *testing.T) {
	c := newMemCluster(t, 3, func(cfg *raft.Config) { cfg.CheckQuorum, cfg.PreVote = false, false })
	lead := c.leader(10 * time.Second)
	c.net.Isolate(lead.addr) // without CheckQuorum it stays leader, unable to commit
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := lead.r.Propose(ctx, []byte("stuck=1"))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Propose on a leader that cannot commit: %v, want context.DeadlineExceeded", err)
	}
	canceled, cancelNow := context.WithCancel(context.Background())
	cancelNow()
	if err := lead.r.LinearizableRead(canceled); !errors.Is(err, context.Canceled) {
		t.Fatalf("LinearizableRead with a canceled context: %v", err)
	}
}

func TestLeaseRead(t *testing.T) {
	c := newMemCluster(t, 3, func(cfg *raft.Config) { cfg.LeaseRead = true })
	lead := c.leader(10 * time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for i := 0; i < 5; i++ {
		k := fmt.Sprintf("lease%d", i)
		if _, err := lead.r.Propose(ctx, []byte(k+"=v")); err != nil {
			t.Fatal(err)
		}
		if err := lead.r.LinearizableRead(ctx); err != nil {
			t.Fatal(err)
		}
		if v, _ := lead.fsm.get(k); v != "v" {
			t.Fatalf("lease read missed %s", k)
		}
	}
}

func TestLeaderChangesClosedOnClose(t *testing.T) {
	c := newMemCluster(t, 1, nil)
	ch := c.nodes[1].r.LeaderChanges()
	lc := <-ch
	if lc.LeaderID != 1 || !lc.IsSelf || lc.Addr != "n1" || lc.Term == 0 {
		t.Fatalf("first leader change %+v, want node 1 at n1 leading", lc)
	}
	c.nodes[1].r.Close()
	for range ch { // drains, then ends: the channel is closed
	}
	if st := c.nodes[1].r.Status(); !errors.Is(st.Err, raft.ErrClosed) {
		t.Fatalf("Status after Close: Err = %v", st.Err)
	}
}
