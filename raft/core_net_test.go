package raft

import (
	"math/rand"
	"slices"
	"testing"

	"google.golang.org/protobuf/proto"

	"weedfs.dev/weed/raft/raftpb"
)

// testNet runs cores in lockstep over a perfect, instantaneous network with
// memory storage: the scaffolding of the focused core tests.
type testNet struct {
	t       testing.TB
	cores   map[uint64]*Core
	logs    map[uint64]*MemoryLogStore
	stable  map[uint64]*MemoryStableStore
	snaps   map[uint64]*raftpb.SnapshotMeta
	applied map[uint64][]*raftpb.Entry
	reads   map[uint64][]ReadState
	// cut[a][b]: messages from a to b are dropped.
	cut  map[uint64]map[uint64]bool
	down map[uint64]bool
	cfg  func(*CoreConfig)
	// filter, if set, may drop (false) or inspect messages.
	filter func(m *raftpb.Message) bool
	// shared delivers the sender's message itself instead of a copy (the
	// core never modifies messages or entries once sent): for benchmarks.
	shared bool
}

func newTestNet(t testing.TB, voters int, cfg func(*CoreConfig)) *testNet {
	t.Helper()
	n := &testNet{t: t, cores: map[uint64]*Core{}, logs: map[uint64]*MemoryLogStore{},
		stable: map[uint64]*MemoryStableStore{}, snaps: map[uint64]*raftpb.SnapshotMeta{},
		applied: map[uint64][]*raftpb.Entry{}, reads: map[uint64][]ReadState{},
		cut: map[uint64]map[uint64]bool{}, down: map[uint64]bool{}, cfg: cfg}
	boot := &raftpb.ConfState{}
	for id := uint64(1); id <= uint64(voters); id++ {
		boot.Members = append(boot.Members, &raftpb.Member{Id: id})
	}
	for id := uint64(1); id <= uint64(voters); id++ {
		n.start(id, boot)
	}
	n.stabilize()
	return n
}

func (n *testNet) config(id uint64) CoreConfig {
	cfg := CoreConfig{ID: id, ClusterID: 7, ElectionTick: 10, HeartbeatTick: 1,
		MaxSizePerMsg: 1 << 20, MaxInflightMsgs: 64, Rand: rand.New(rand.NewSource(int64(id))),
		Log: n.logs[id]}
	if n.cfg != nil {
		n.cfg(&cfg)
	}
	return cfg
}

// start creates (or restarts from its stores) peer id.
func (n *testNet) start(id uint64, boot *raftpb.ConfState) {
	n.t.Helper()
	if n.logs[id] == nil {
		n.logs[id] = NewMemoryLogStore()
		n.stable[id] = NewMemoryStableStore()
	}
	hs, _ := n.stable[id].HardState()
	c, err := NewCore(n.config(id), hs, n.snaps[id], boot)
	if err != nil {
		n.t.Fatalf("NewCore %d: %v", id, err)
	}
	n.cores[id] = c
	n.applied[id] = nil
	delete(n.down, id)
}

// crash drops a peer's core; its stores survive.
func (n *testNet) crash(id uint64) {
	delete(n.cores, id)
	n.down[id] = true
}

func (n *testNet) isolate(id uint64) {
	for other := range n.logs {
		if other != id {
			n.cutLink(id, other)
			n.cutLink(other, id)
		}
	}
}

func (n *testNet) cutLink(a, b uint64) {
	if n.cut[a] == nil {
		n.cut[a] = map[uint64]bool{}
	}
	n.cut[a][b] = true
}

func (n *testNet) heal() { n.cut = map[uint64]map[uint64]bool{} }

func (n *testNet) ids() []uint64 {
	var ids []uint64
	for id := range n.cores {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// stabilize processes Readys and delivers messages until quiet.
func (n *testNet) stabilize() {
	n.t.Helper()
	for range 10000 {
		var msgs []*raftpb.Message
		for _, id := range n.ids() {
			c := n.cores[id]
			if !c.HasReady() {
				continue
			}
			rd := c.Ready()
			if rd.Snapshot != nil {
				must(n.t, n.logs[id].Reset(rd.Snapshot.Index, rd.Snapshot.Term))
				n.snaps[id] = rd.Snapshot
			}
			must(n.t, n.logs[id].Append(rd.Entries))
			if rd.HardState != nil {
				must(n.t, n.stable[id].SaveHardState(rd.HardState))
			}
			msgs = append(msgs, rd.Messages...)
			for _, e := range rd.CommittedEntries {
				if e.Type == raftpb.EntryType_ENTRY_CONF_CHANGE {
					cc := &raftpb.ConfChange{}
					must(n.t, proto.Unmarshal(e.Data, cc))
					c.ApplyConfChange(cc)
				}
				n.applied[id] = append(n.applied[id], e)
			}
			n.reads[id] = append(n.reads[id], rd.ReadStates...)
			c.Advance(rd)
		}
		if len(msgs) == 0 {
			quiet := true
			for _, c := range n.cores {
				if c.HasReady() {
					quiet = false
				}
			}
			if quiet {
				return
			}
		}
		n.deliver(msgs)
	}
	n.t.Fatal("network did not stabilize")
}

func (n *testNet) deliver(msgs []*raftpb.Message) {
	for _, m := range msgs {
		if n.cut[m.From][m.To] || n.down[m.To] {
			continue
		}
		if n.filter != nil && !n.filter(m) {
			continue
		}
		c := n.cores[m.To]
		if c == nil {
			continue
		}
		if !n.shared {
			m = proto.Clone(m).(*raftpb.Message)
		}
		if err := c.Step(m); err != nil {
			n.t.Fatalf("step %s %d->%d: %v", m.Type, m.From, m.To, err)
		}
		if m.Type == raftpb.MessageType_MSG_SNAP {
			// The transport reports delivery.
			st := &raftpb.Message{Type: raftpb.MessageType_MSG_SNAP_STATUS, From: m.To}
			if s := n.cores[m.From]; s != nil {
				must(n.t, s.Step(st))
			}
		}
	}
}

func (n *testNet) tick(id uint64, k int) {
	for range k {
		n.cores[id].Tick()
		n.stabilize()
	}
}

func (n *testNet) tickAll(k int) {
	for range k {
		for _, id := range n.ids() {
			n.cores[id].Tick()
		}
		n.stabilize()
	}
}

func (n *testNet) campaign(id uint64) {
	n.cores[id].Campaign()
	n.stabilize()
}

// leader returns the leader of the highest term (a deposed leader that has
// not heard of it may linger).
func (n *testNet) leader() uint64 {
	var lead, term uint64
	for _, id := range n.ids() {
		st := n.cores[id].Status()
		if st.Role == RoleLeader {
			if lead != 0 && st.Term == term {
				n.t.Fatalf("two leaders in term %d", term)
			}
			if st.Term > term {
				lead, term = id, st.Term
			}
		}
	}
	return lead
}

func (n *testNet) propose(id uint64, data string) (uint64, error) {
	i, _, err := n.cores[id].Propose([]byte(data))
	n.stabilize()
	return i, err
}

// appliedData returns the ENTRY_NORMAL data peer id applied.
func (n *testNet) appliedData(id uint64) []string {
	var out []string
	for _, e := range n.applied[id] {
		if e.Type == raftpb.EntryType_ENTRY_NORMAL {
			out = append(out, string(e.Data))
		}
	}
	return out
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
