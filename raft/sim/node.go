package sim

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand"

	"google.golang.org/protobuf/proto"

	"weedfs.dev/weed/raft"
	"weedfs.dev/weed/raft/raftpb"
)

// node is one simulated peer: a core, the stores that survive its crashes
// and the state machine rebuilt on restart.
type node struct {
	id      uint64
	founder bool // bootstrapped the cluster
	core    *raft.Core
	logs    *raft.MemoryLogStore
	stable  *raft.MemoryStableStore
	snaps   *raft.MemorySnapshotStore
	kv      *kvState
	applied uint64
	commit  uint64 // persisted commit index
	reads   []raft.ReadState
	// inbox: snapshot data received beside MSG_SNAP, by index, until the
	// core accepts (Ready.Snapshot) or the peer crashes.
	inbox map[uint64][]byte
	// incarnation changes at every restart, so that local reports about a
	// previous life are dropped.
	incarnation int
}

func (n *node) up() bool { return n.core != nil }

// start builds the core from the stores, as a driver does on boot.
func (c *Cluster) start(n *node) error {
	hs, err := n.stable.HardState()
	if err != nil {
		return err
	}
	n.commit = hs.GetCommit()
	var meta *raftpb.SnapshotMeta
	n.kv, n.applied = newKV(), 0
	if m, r, err := n.snaps.Latest(); err == nil {
		data, err := io.ReadAll(r)
		if err != nil {
			return err
		}
		if n.kv, err = decodeKV(data); err != nil {
			return err
		}
		meta, n.applied = m, m.Index
		n.commit = max(n.commit, m.Index)
	} else if !errors.Is(err, raft.ErrNoSnapshot) {
		return err
	}
	var boot *raftpb.ConfState
	if n.founder {
		boot = c.boot
	}
	core, err := raft.NewCore(raft.CoreConfig{
		ID: n.id, ClusterID: 1, ElectionTick: electionTick, HeartbeatTick: heartbeatTick,
		PreVote: c.preVote, CheckQuorum: c.checkQuorum, LeaseRead: c.leaseRead,
		MaxSizePerMsg: c.maxMsgSize, MaxInflightMsgs: c.maxInflight, MaxInflightBytes: c.maxInflightBytes,
		Rand: rand.New(rand.NewSource(c.rng.Int63())), Log: n.logs,
	}, hs, meta, boot)
	if err != nil {
		return fmt.Errorf("restart %d: %w", n.id, err)
	}
	n.core = core
	n.reads = nil
	n.inbox = map[uint64][]byte{}
	n.incarnation++
	return nil
}

func (c *Cluster) crash(n *node) {
	c.tracef("crash %d", n.id)
	n.core = nil
	n.reads = nil
	n.inbox = nil
}

// crashAt: with a small probability the peer crashes at this point of its
// Ready processing.
func (c *Cluster) crashAt(n *node) bool {
	if c.crashMidReady > 0 && c.chaos && c.rng.Float64() < c.crashMidReady {
		c.crash(n)
		return true
	}
	return false
}

// handleReady does what a driver does with one Ready, checking the
// invariants as state is persisted and applied.
func (c *Cluster) handleReady(n *node) error {
	if !n.core.HasReady() {
		return nil
	}
	rd := n.core.Ready()
	if rd.SoftState != nil {
		c.tracef("%d soft %s lead=%d", n.id, rd.SoftState.Role, rd.SoftState.Lead)
	}
	if c.crashAt(n) {
		return nil
	}
	if rd.Snapshot != nil {
		if err := c.installSnapshot(n, rd.Snapshot); err != nil {
			return err
		}
	}
	if c.bug == BugSendBeforePersist {
		c.sendAll(n, rd.Messages)
	}
	if c.crashAt(n) {
		return nil
	}
	if len(rd.Entries) > 0 {
		if err := c.checkAppend(n, rd.Entries); err != nil {
			return err
		}
		ents := rd.Entries
		torn := c.crashMidReady > 0 && c.chaos && len(ents) > 1 && c.rng.Float64() < c.crashMidReady
		if torn {
			// Power cut in the middle of the write: a prefix survives.
			ents = ents[:1+c.rng.Intn(len(ents)-1)]
		}
		if err := n.logs.Append(ents); err != nil {
			return err
		}
		if torn {
			c.tracef("%d torn append: %d of %d entries", n.id, len(ents), len(rd.Entries))
			c.crash(n)
			return nil
		}
	}
	if c.crashAt(n) {
		return nil
	}
	if rd.HardState != nil {
		hs := rd.HardState
		if c.bug == BugForgetVote {
			hs = &raftpb.HardState{Term: hs.Term, Commit: hs.Commit}
		}
		if err := n.stable.SaveHardState(hs); err != nil {
			return err
		}
		if err := c.checkLeaderCommit(n, rd.HardState); err != nil {
			return err
		}
		if err := c.noteCommitted(n, rd.HardState.Commit); err != nil {
			return err
		}
	}
	if rd.SoftState != nil && rd.SoftState.Role == raft.RoleLeader {
		if err := c.checkLeaderCompleteness(n); err != nil {
			return err
		}
	}
	if c.crashAt(n) {
		return nil
	}
	if c.bug != BugSendBeforePersist {
		c.sendAll(n, rd.Messages)
	}
	if c.crashAt(n) {
		return nil
	}
	for _, e := range rd.CommittedEntries {
		if err := c.apply(n, e); err != nil {
			return err
		}
	}
	n.reads = append(n.reads, rd.ReadStates...)
	c.serveReads(n)
	n.core.Advance(rd)
	return nil
}

func (c *Cluster) sendAll(n *node, msgs []*raftpb.Message) {
	for _, m := range msgs {
		var data []byte
		if m.Type == raftpb.MessageType_MSG_SNAP {
			meta, r, err := n.snaps.Latest()
			if err != nil || meta.Index != m.Snapshot.Index {
				c.tracef("%d has no snapshot data for %d", n.id, m.Snapshot.Index)
				c.localReport(n, m.To, true)
				continue
			}
			data, _ = io.ReadAll(r)
		}
		c.tracef("send %s %d->%d term=%d idx=%d lt=%d n=%d commit=%d rej=%v", m.Type, m.From, m.To, m.Term, m.Index, m.LogTerm, len(m.Entries), m.Commit, m.Reject)
		ok := c.net.send(m, data)
		if m.Type == raftpb.MessageType_MSG_SNAP {
			c.localReport(n, m.To, !ok)
		}
	}
}

// localReport queues a MSG_SNAP_STATUS for the sender's next step, as a
// transport reports the result of a snapshot send.
func (c *Cluster) localReport(n *node, peer uint64, reject bool) {
	c.reports = append(c.reports, report{node: n.id, incarnation: n.incarnation,
		m: &raftpb.Message{Type: raftpb.MessageType_MSG_SNAP_STATUS, From: peer, Reject: reject}})
}

// installSnapshot restores the state machine from a leader's snapshot the
// core accepted, saves it and resets the log.
func (c *Cluster) installSnapshot(n *node, meta *raftpb.SnapshotMeta) error {
	data, ok := n.inbox[meta.Index]
	if !ok {
		// Accepted in a previous life, saved but the log not reset yet.
		m, r, err := n.snaps.Latest()
		if err != nil || m.Index != meta.Index {
			return fmt.Errorf("node %d: snapshot %d accepted but its data is gone", n.id, meta.Index)
		}
		data, _ = io.ReadAll(r)
	}
	kv, err := decodeKV(data)
	if err != nil {
		return fmt.Errorf("node %d: snapshot %d: %w", n.id, meta.Index, err)
	}
	if cur, _, err := n.snaps.Latest(); err != nil || cur.Index < meta.Index {
		sink, err := n.snaps.Create(meta)
		if err != nil {
			return err
		}
		if _, err := io.Copy(sink, bytes.NewReader(data)); err != nil {
			return err
		}
		if err := sink.Close(); err != nil {
			return err
		}
	}
	if err := n.logs.Reset(meta.Index, meta.Term); err != nil {
		return err
	}
	c.tracef("%d installed snapshot %d/%d", n.id, meta.Index, meta.Term)
	n.kv, n.applied = kv, meta.Index
	delete(n.inbox, meta.Index)
	return nil
}

// apply applies one committed entry, checking state machine safety.
func (c *Cluster) apply(n *node, e *raftpb.Entry) error {
	if e.Index != n.applied+1 {
		return fmt.Errorf("node %d applies index %d after %d", n.id, e.Index, n.applied)
	}
	data := e.Data
	if c.bug == BugCorruptApply && n.id == 2 && e.Type == raftpb.EntryType_ENTRY_NORMAL && len(data) > 0 && e.Index%10 == 7 {
		data = append([]byte(nil), data...)
		data[len(data)-1] ^= 1 // still decodes: a wrong value
	}
	if err := c.checkApply(n, e.Index, e.Term, e.Type, data); err != nil {
		return err
	}
	n.applied = e.Index
	switch e.Type {
	case raftpb.EntryType_ENTRY_CONF_CHANGE:
		cc := &raftpb.ConfChange{}
		if err := proto.Unmarshal(data, cc); err != nil {
			return fmt.Errorf("node %d: conf change %d: %w", n.id, e.Index, err)
		}
		cs := n.core.ApplyConfChange(cc)
		if e.Index > c.confIndex {
			c.conf, c.confIndex = cs, e.Index
		}
		c.tracef("%d applied conf %d: %v", n.id, e.Index, confString(cs))
	case raftpb.EntryType_ENTRY_NORMAL:
		cmd, err := decodeCommand(data)
		if err != nil {
			return fmt.Errorf("node %d: entry %d: %w", n.id, e.Index, err)
		}
		n.kv.apply(cmd)
		c.clientWriteDone(cmd)
	}
	return nil
}

// serveReads answers the reads whose index the state machine reached.
func (c *Cluster) serveReads(n *node) {
	kept := n.reads[:0]
	for _, rs := range n.reads {
		if rs.Index <= n.applied {
			c.clientReadDone(n, rs.Context)
		} else {
			kept = append(kept, rs)
		}
	}
	n.reads = kept
}

// snapshot saves the state machine at the applied index and compacts the
// log, keeping a few entries.
func (c *Cluster) snapshot(n *node) error {
	first, _ := n.logs.FirstIndex()
	if n.applied < first+5 {
		return nil
	}
	term, err := n.logs.Term(n.applied)
	if err != nil {
		return fmt.Errorf("node %d: term of applied %d: %w", n.id, n.applied, err)
	}
	meta := &raftpb.SnapshotMeta{Index: n.applied, Term: term, Conf: n.core.Status().Conf}
	sink, err := n.snaps.Create(meta)
	if err != nil {
		return err
	}
	if _, err := sink.Write(n.kv.encode()); err != nil {
		return err
	}
	if err := sink.Close(); err != nil {
		return err
	}
	n.core.SetSnapshot(meta)
	upto := n.applied - uint64(c.rng.Intn(4))
	t, err := n.logs.Term(upto)
	if err != nil {
		return err
	}
	c.tracef("%d snapshot at %d, compact to %d", n.id, n.applied, upto)
	return n.logs.Compact(upto, t)
}

func confString(cs *raftpb.ConfState) string {
	s := "["
	for _, m := range cs.GetMembers() {
		if m.Learner {
			s += fmt.Sprintf(" l%d", m.Id)
		} else {
			s += fmt.Sprintf(" %d", m.Id)
		}
	}
	if len(cs.GetOutgoing()) > 0 {
		s += " | out"
		for _, m := range cs.GetOutgoing() {
			s += fmt.Sprintf(" %d", m.Id)
		}
	}
	return s + " ]"
}
