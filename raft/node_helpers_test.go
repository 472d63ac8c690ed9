package raft_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"strings"
	"sync"
	"testing"
	"time"

	"weedfs.dev/weed/raft"
	"weedfs.dev/weed/raft/memtransport"
	"weedfs.dev/weed/raft/raftpb"
)

// kvFSM is a tiny key-value state machine: commands are "key=value"; Apply
// returns the number of commands applied so far. It records the index of
// every applied entry to check exactly-once, in-order application.
type kvFSM struct {
	mu      sync.Mutex
	data    map[string]string
	last    uint64 // index of the last applied entry
	applied int    // commands applied since the last Restore
	dupes   int    // entries applied at or below last: must stay 0
}

func newKV() *kvFSM { return &kvFSM{data: map[string]string{}} }

func (f *kvFSM) Apply(e *raftpb.Entry) any {
	f.mu.Lock()
	defer f.mu.Unlock()
	if e.Index <= f.last {
		f.dupes++
	}
	f.last = e.Index
	k, v, _ := strings.Cut(string(e.Data), "=")
	f.data[k] = v
	f.applied++
	return f.applied
}

type kvSnapshot struct {
	Last uint64
	Data map[string]string
}

func (f *kvFSM) Snapshot(w io.Writer) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return json.NewEncoder(w).Encode(kvSnapshot{f.last, f.data})
}

func (f *kvFSM) Restore(r io.Reader) error {
	var s kvSnapshot
	if err := json.NewDecoder(r).Decode(&s); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.data, f.last = s.Data, s.Last
	if f.data == nil {
		f.data = map[string]string{}
	}
	return nil
}

func (f *kvFSM) get(k string) (string, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	v, ok := f.data[k]
	return v, ok
}

func (f *kvFSM) state() (map[string]string, uint64, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return maps.Clone(f.data), f.last, f.dupes
}

// testConfig is fast enough for tests and robust on a loaded machine:
// 20 ms ticks, a 200-400 ms election timeout.
func testConfig(id uint64) raft.Config {
	cfg := raft.DefaultConfig()
	cfg.ID, cfg.ClusterID = id, 77
	cfg.TickInterval = 20 * time.Millisecond
	cfg.ElectionTicks = 10
	cfg.HeartbeatTicks = 2
	cfg.Seed = int64(id)
	return cfg
}

// waitUntil polls cond until it holds or d passes.
func waitUntil(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// memNode is one node of an in-memory cluster; its stores survive a
// restart of the node (they play the disk).
type memNode struct {
	id     uint64
	addr   string
	r      *raft.Raft
	fsm    *kvFSM
	logs   *raft.MemoryLogStore
	stable *raft.MemoryStableStore
	snaps  *raft.MemorySnapshotStore
	cfg    raft.Config
}

type memCluster struct {
	t     testing.TB
	net   *memtransport.Network
	mu    sync.Mutex // guards each node's r against background proposers
	nodes map[uint64]*memNode
}

func newMemCluster(t testing.TB, n int, tweak func(*raft.Config)) *memCluster {
	t.Helper()
	c := &memCluster{t: t, net: memtransport.NewNetwork(1), nodes: map[uint64]*memNode{}}
	var members []*raftpb.Member
	for id := uint64(1); id <= uint64(n); id++ {
		members = append(members, &raftpb.Member{Id: id, Address: fmt.Sprintf("n%d", id)})
	}
	for id := uint64(1); id <= uint64(n); id++ {
		nd := c.add(id, tweak)
		if err := nd.r.Bootstrap(context.Background(), members); err != nil {
			t.Fatalf("bootstrap %d: %v", id, err)
		}
	}
	t.Cleanup(c.closeAll)
	return c
}

// add creates and starts a brand-new node (not a member yet).
func (c *memCluster) add(id uint64, tweak func(*raft.Config)) *memNode {
	c.t.Helper()
	cfg := testConfig(id)
	if tweak != nil {
		tweak(&cfg)
	}
	nd := &memNode{id: id, addr: fmt.Sprintf("n%d", id), logs: raft.NewMemoryLogStore(),
		stable: raft.NewMemoryStableStore(), snaps: raft.NewMemorySnapshotStore(), cfg: cfg}
	c.nodes[id] = nd
	c.start(nd)
	return nd
}

func (c *memCluster) start(nd *memNode) {
	c.t.Helper()
	nd.fsm = newKV()
	r, err := raft.New(nd.cfg, nd.fsm, nd.logs, nd.stable, nd.snaps, c.net.NewTransport(nd.addr))
	if err != nil {
		c.t.Fatalf("start %d: %v", nd.id, err)
	}
	c.mu.Lock()
	nd.r = r
	c.mu.Unlock()
}

// crash closes a node and forgets it until start; its stores stay.
func (c *memCluster) crash(nd *memNode) {
	c.mu.Lock()
	r := nd.r
	nd.r = nil
	c.mu.Unlock()
	if r != nil {
		r.Close()
	}
}

func (c *memCluster) closeAll() {
	for _, nd := range c.nodes {
		if nd.r != nil {
			nd.r.Close()
		}
	}
}

// leader waits for one node that all running nodes agree on as leader.
func (c *memCluster) leader(d time.Duration) *memNode {
	c.t.Helper()
	var lead *memNode
	waitUntil(c.t, d, "a leader all running nodes agree on", func() bool {
		lead = nil
		var id uint64
		for _, nd := range c.nodes {
			if nd.r == nil {
				continue
			}
			st := nd.r.Status()
			if st.Err != nil {
				continue
			}
			if st.Lead == 0 || (id != 0 && st.Lead != id) {
				return false
			}
			id = st.Lead
		}
		if nd := c.nodes[id]; nd != nil && nd.r != nil && nd.r.Status().Role == raft.RoleLeader {
			lead = nd
			return true
		}
		return false
	})
	return lead
}

// propose retries through leader changes until the command is applied.
func propose(ctx context.Context, nodes func() []*raft.Raft, cmd string) error {
	for {
		var last error
		for _, r := range nodes() {
			_, err := r.Propose(ctx, []byte(cmd))
			if err == nil {
				return nil
			}
			last = err
			if ctx.Err() != nil {
				return fmt.Errorf("%s: %w (last: %v)", cmd, ctx.Err(), last)
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: %w (last: %v)", cmd, ctx.Err(), last)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (c *memCluster) running() []*raft.Raft {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []*raft.Raft
	for _, nd := range c.nodes {
		if nd.r != nil {
			out = append(out, nd.r)
		}
	}
	return out
}

// converged waits until every listed node's FSM holds the same state as the
// first and has applied want commands' worth of keys.
func converged(t testing.TB, d time.Duration, fsms []*kvFSM, wantKeys int) map[string]string {
	t.Helper()
	var ref map[string]string
	waitUntil(t, d, fmt.Sprintf("%d FSMs to converge on %d keys", len(fsms), wantKeys), func() bool {
		ref = nil
		for _, f := range fsms {
			s, _, _ := f.state()
			if len(s) != wantKeys {
				return false
			}
			if ref == nil {
				ref = s
			} else if !maps.Equal(ref, s) {
				return false
			}
		}
		return true
	})
	for i, f := range fsms {
		if _, _, dupes := f.state(); dupes != 0 {
			t.Fatalf("FSM %d applied %d entries twice or out of order", i, dupes)
		}
	}
	return ref
}

// failingLog is a LogStore whose Append fails once armed.
type failingLog struct {
	*raft.MemoryLogStore
	mu   sync.Mutex
	fail bool
}

var errDiskGone = errors.New("disk gone")

func (l *failingLog) Append(ents []*raftpb.Entry) error {
	l.mu.Lock()
	fail := l.fail
	l.mu.Unlock()
	if fail {
		return errDiskGone
	}
	return l.MemoryLogStore.Append(ents)
}

func (l *failingLog) arm() {
	l.mu.Lock()
	l.fail = true
	l.mu.Unlock()
}

var _ = bytes.Equal
