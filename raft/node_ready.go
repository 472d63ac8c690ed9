package raft

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/protobuf/proto"

	"weedfs.dev/weed/raft/raftpb"
)

// proposal is one Propose or membership call waiting for its entry.
type proposal struct {
	data []byte
	cc   *raftpb.ConfChange // non-nil: a configuration change
	term uint64             // set once proposed
	done chan result        // capacity 1
}

type result struct {
	val any
	err error
}

func (p *proposal) finish(val any, err error) { p.done <- result{val, err} }

// propose hands a proposal to the core; on success it waits in r.waiters
// for the applier to reach its index.
func (r *Raft) propose(p *proposal) {
	var index, term uint64
	var err error
	if p.cc != nil {
		index, term, err = r.core.ProposeConfChange(p.cc)
	} else {
		index, term, err = r.core.Propose(p.data)
	}
	if err != nil {
		p.finish(nil, r.notLeader(err))
		return
	}
	p.term = term
	r.mu.Lock()
	if old := r.waiters[index]; old != nil {
		// An earlier proposal at this index was overwritten in our own log
		// (we lost leadership and regained it): its entry is gone.
		old.finish(nil, ErrLeadershipLost)
	}
	r.waiters[index] = p
	r.mu.Unlock()
}

// notLeader turns the core's ErrNotLeader into a NotLeaderError naming the
// leader; other errors pass through.
func (r *Raft) notLeader(err error) error {
	if !errors.Is(err, ErrNotLeader) {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return &NotLeaderError{LeaderID: r.lead, LeaderAddr: r.addrs[r.lead]}
}

// processReady does the core's work until it has none.
func (r *Raft) processReady() error {
	for r.core.HasReady() {
		rd := r.core.Ready()
		if err := r.handleReady(rd); err != nil {
			return err
		}
		r.core.Advance(rd)
	}
	return nil
}

// handleReady does what one Ready asks: install a snapshot, persist, send,
// apply. Committed entries that were already durable in the log before this
// Ready (all of them, on a leader) go to the applier first, so applying
// them overlaps the fsync of the new entries; the others are applied after
// it, as the contract says.
func (r *Raft) handleReady(rd Ready) error {
	if rd.SoftState != nil {
		r.setSoft(rd.SoftState)
	}
	var early applyTask
	if s := rd.Snapshot; s != nil {
		if err := r.logs.Reset(s.Index, s.Term); err != nil {
			return fmt.Errorf("raft: reset log to snapshot %d: %w", s.Index, err)
		}
		r.stableIndex = s.Index
		r.syncPeers(s.Conf)
		early.restore = s
	}
	stable, rest := splitAt(rd.CommittedEntries, r.stableIndex)
	r.committed(&early, stable)
	for _, rs := range rd.ReadStates {
		if req := r.reads[string(rs.Context)]; req != nil {
			delete(r.reads, string(rs.Context))
			req.index = rs.Index
			early.reads = append(early.reads, req)
		}
	}
	if early.restore != nil || len(early.entries) > 0 || len(early.reads) > 0 {
		if err := r.toApply(&early); err != nil {
			return err
		}
	}
	if err := r.persist(rd.HardState, rd.Entries, hasConfChange(rd.CommittedEntries)); err != nil {
		return err
	}
	if n := len(rd.Entries); n > 0 {
		r.stableIndex = rd.Entries[n-1].Index
	}
	r.send(rd.Messages)
	if len(rest) > 0 {
		var late applyTask
		r.committed(&late, rest)
		return r.toApply(&late)
	}
	return nil
}

// splitAt splits committed entries into those at or below index and the rest.
func splitAt(ents []*raftpb.Entry, index uint64) (below, above []*raftpb.Entry) {
	i := 0
	for i < len(ents) && ents[i].Index <= index {
		i++
	}
	return ents[:i], ents[i:]
}

// committed adds committed entries to an apply task, applying conf changes
// to the core (on the loop, in log order) and the transport on the way.
func (r *Raft) committed(task *applyTask, ents []*raftpb.Entry) {
	if len(ents) == 0 {
		return
	}
	task.entries = ents
	for _, e := range ents {
		if e.Type != raftpb.EntryType_ENTRY_CONF_CHANGE {
			continue
		}
		cc := new(raftpb.ConfChange)
		if err := proto.Unmarshal(e.Data, cc); err != nil {
			// Every peer decodes the same committed bytes alike, so
			// skipping keeps them consistent.
			r.logger.Error("raft: undecodable conf change skipped", "index", e.Index, "err", err)
			continue
		}
		cs := r.core.ApplyConfChange(cc)
		r.syncPeers(cs)
		task.confs = append(task.confs, confAt{e.Index, cs})
	}
}

// toApply queues work for the applier, in order; it blocks while the
// applier is behind (back-pressure from a slow FSM).
func (r *Raft) toApply(t *applyTask) error {
	select {
	case r.applyc <- t:
		return nil
	case <-r.stopc:
		return errStopping
	}
}

// persist makes entries durable, and the HardState when its term or vote
// changed, before anything is sent. A change of commit alone is not synced
// on its own (etcd does not sync it either): a lagging commit on disk is
// safe, the node learns it again from the leader, so it is saved with the
// next entries, the next term or vote change, or at Close. The exception
// is syncCommit, a commit that covers a configuration change: the
// configuration is rebuilt at start by re-applying committed entries, and
// a restarted node must not fall back to an older configuration than one
// it acted on.
func (r *Raft) persist(hs *raftpb.HardState, ents []*raftpb.Entry, syncCommit bool) error {
	if hs != nil {
		r.latestHS = hs
	}
	termOrVote := hs != nil && (hs.Term != r.savedHS.Term || hs.Vote != r.savedHS.Vote)
	if len(ents) == 0 && !termOrVote && !syncCommit {
		return nil
	}
	var save *raftpb.HardState
	if !proto.Equal(r.latestHS, r.savedHS) {
		save = r.latestHS
	}
	if len(ents) == 0 && save == nil {
		return nil
	}
	if r.saver != nil {
		if err := r.saver.Save(save, ents); err != nil {
			return fmt.Errorf("raft: persist: %w", err)
		}
	} else {
		if len(ents) > 0 {
			if err := r.logs.Append(ents); err != nil {
				return fmt.Errorf("raft: append %d entries: %w", len(ents), err)
			}
		}
		if save != nil {
			if err := r.stable.SaveHardState(save); err != nil {
				return fmt.Errorf("raft: save hard state: %w", err)
			}
		}
	}
	if save != nil {
		r.savedHS = save
	}
	return nil
}

// hasConfChange reports whether ents hold a configuration change.
func hasConfChange(ents []*raftpb.Entry) bool {
	for _, e := range ents {
		if e.Type == raftpb.EntryType_ENTRY_CONF_CHANGE {
			return true
		}
	}
	return false
}

// flushHardState saves a commit index not yet on disk; on the loop, as it
// stops.
func (r *Raft) flushHardState() {
	if proto.Equal(r.latestHS, r.savedHS) {
		return
	}
	if err := r.stable.SaveHardState(r.latestHS); err != nil {
		r.logger.Warn("raft: save hard state at close", "err", err)
		return
	}
	r.savedHS = r.latestHS
}

// send hands messages to the transport; MSG_SNAP goes out on its own
// goroutine with the latest snapshot's data.
func (r *Raft) send(msgs []*raftpb.Message) {
	out := msgs[:0:0]
	for _, m := range msgs {
		if m.Type == raftpb.MessageType_MSG_SNAP {
			r.sendSnapshot(m)
			continue
		}
		out = append(out, m)
	}
	if len(out) > 0 {
		r.trans.Send(out)
	}
}

// sendSnapshot streams the latest snapshot to m.To, one transfer per peer
// at a time, and reports the outcome to the core with MSG_SNAP_STATUS.
func (r *Raft) sendSnapshot(m *raftpb.Message) {
	if r.snapSends[m.To] {
		return
	}
	r.snapSends[m.To] = true
	r.senders.Add(1)
	go func() {
		defer r.senders.Done()
		err := r.transferSnapshot(r.ctx, m)
		if err != nil {
			r.logger.Warn("raft: snapshot transfer failed", "to", m.To, "err", err)
		}
		status := &raftpb.Message{Type: raftpb.MessageType_MSG_SNAP_STATUS, From: m.To, To: r.cfg.ID,
			ClusterId: r.cfg.ClusterID, Reject: err != nil}
		select {
		case r.reqc <- func() { delete(r.snapSends, m.To); r.step(status) }:
		case <-r.loopDone:
		}
	}()
}

func (r *Raft) transferSnapshot(ctx context.Context, m *raftpb.Message) error {
	meta, rc, err := r.snaps.Latest()
	if err != nil {
		return fmt.Errorf("raft: open snapshot for peer %d: %w", m.To, err)
	}
	defer rc.Close()
	if meta.Index < m.GetSnapshot().GetIndex() {
		return fmt.Errorf("raft: latest snapshot %d is older than the core's %d", meta.Index, m.Snapshot.Index)
	}
	m.Snapshot = meta // a newer one than the core knows is as good
	return r.trans.SendSnapshot(ctx, m, rc)
}

// setSoft records a change of leader or role and tells subscribers.
func (r *Raft) setSoft(s *SoftState) {
	if s.Lead == r.lead {
		return
	}
	r.lead = s.Lead
	// Pending reads went to a leader that may no longer answer them.
	for k, req := range r.reads {
		req.finish(ErrLeadershipLost)
		delete(r.reads, k)
	}
	r.mu.Lock()
	addr := r.addrs[s.Lead]
	r.knownLead = s.Lead
	r.mu.Unlock()
	term, _, _, _ := r.core.Basic()
	r.notifyLeader(LeaderChange{Term: term, LeaderID: s.Lead, Addr: addr, IsSelf: s.Lead == r.cfg.ID})
}

// syncPeers makes the transport's peers those of configuration cs.
func (r *Raft) syncPeers(cs *raftpb.ConfState) {
	want := make(map[uint64]string)
	for _, m := range cs.GetMembers() {
		want[m.Id] = m.Address
	}
	for _, m := range cs.GetOutgoing() {
		if _, ok := want[m.Id]; !ok {
			want[m.Id] = m.Address
		}
	}
	r.mu.Lock()
	for id, addr := range want {
		r.addrs[id] = addr
	}
	r.mu.Unlock()
	for id, addr := range want {
		if id == r.cfg.ID {
			continue
		}
		if old, ok := r.peers[id]; !ok || old != addr {
			r.trans.AddPeer(id, addr)
			r.peers[id] = addr
		}
	}
	for id := range r.peers {
		if _, ok := want[id]; !ok {
			r.trans.RemovePeer(id)
			delete(r.peers, id)
		}
	}
}
