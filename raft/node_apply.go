package raft

import (
	"fmt"
	"io"

	"weedfs.dev/weed/raft/raftpb"
)

// applyTask is work for the applier, queued by the loop in log order.
type applyTask struct {
	restore *raftpb.SnapshotMeta // install the latest snapshot first
	entries []*raftpb.Entry      // committed, to apply
	confs   []confAt             // configurations after the conf changes among entries
	reads   []*pendingRead       // to answer once applied >= their index
	snap    chan error           // non-nil: take a snapshot now (Raft.Snapshot)
}

// applier is the state of the apply goroutine, which runs beside the loop
// so that applying one batch overlaps persisting the next.
type applier struct {
	// Invariant: applied <= the core's commit; the FSM reflects exactly
	// the entries up to applied.
	applied, appliedTerm uint64
	sinceSnap            uint64 // entries applied since the latest snapshot
	bytesSinceSnap       uint64
	reads                []*pendingRead // waiting for applied to reach their index
}

// runApply applies tasks until the loop closes applyc; after a fatal error
// it only drains.
func (r *Raft) runApply() {
	defer close(r.done)
	failed := false
	for t := range r.applyc {
		if failed {
			continue
		}
		if err := r.apply(t); err != nil {
			r.fail(err)
			failed = true
		}
	}
	for _, req := range r.ap.reads {
		req.finish(r.stoppedErr())
	}
}

func (r *Raft) apply(t *applyTask) error {
	if t.restore != nil {
		if err := r.restore(t.restore); err != nil {
			return err
		}
	}
	if len(t.entries) > 0 {
		r.applyEntries(t.entries, t.confs)
	}
	if len(t.reads) > 0 {
		r.ap.reads = append(r.ap.reads, t.reads...)
	}
	r.answerReads()
	if t.snap != nil {
		t.snap <- r.snapshotNow()
		return nil
	}
	if r.snapshotDue() {
		if err := r.snapshotNow(); err != nil {
			// The log keeps growing but nothing is lost: try again later.
			r.logger.Warn("raft: automatic snapshot failed", "index", r.ap.applied, "err", err)
		}
	}
	return nil
}

// applyEntries applies what is new to the FSM and resolves the proposals
// waiting on those indexes.
func (r *Raft) applyEntries(ents []*raftpb.Entry, confs []confAt) {
	first, last := ents[0].Index, ents[len(ents)-1].Index
	if last <= r.ap.applied {
		return // already in the FSM (restored from a newer snapshot)
	}
	r.mu.Lock()
	waiting := make(map[uint64]*proposal)
	for i := max(first, r.ap.applied+1); i <= last; i++ {
		if p := r.waiters[i]; p != nil {
			waiting[i] = p
			delete(r.waiters, i)
		}
	}
	r.mu.Unlock()
	ci := 0
	for _, e := range ents {
		if e.Index <= r.ap.applied {
			continue
		}
		var val any
		switch e.Type {
		case raftpb.EntryType_ENTRY_NORMAL:
			val = r.fsm.Apply(e)
			r.ap.bytesSinceSnap += uint64(len(e.Data))
		case raftpb.EntryType_ENTRY_CONF_CHANGE:
			for ci < len(confs) && confs[ci].index < e.Index {
				ci++
			}
			if ci < len(confs) && confs[ci].index == e.Index {
				val = confs[ci].conf
				r.mu.Lock()
				r.confHist = append(r.confHist, confs[ci])
				r.mu.Unlock()
			}
		}
		r.ap.applied, r.ap.appliedTerm = e.Index, e.Term
		r.ap.sinceSnap++
		if p := waiting[e.Index]; p != nil {
			if p.term == e.Term {
				p.finish(val, nil)
			} else {
				p.finish(nil, ErrLeadershipLost)
			}
		}
	}
	r.mu.Lock()
	r.fsmApplied = r.ap.applied
	r.mu.Unlock()
}

// restore installs the latest snapshot (which ReceiveSnapshot stored before
// the core accepted it) into the FSM.
func (r *Raft) restore(want *raftpb.SnapshotMeta) error {
	meta, rc, err := r.snaps.Latest()
	if err != nil {
		return fmt.Errorf("raft: open snapshot %d to install: %w", want.Index, err)
	}
	defer rc.Close()
	if meta.Index < want.Index {
		return fmt.Errorf("raft: snapshot store holds %d, the core installed %d", meta.Index, want.Index)
	}
	if meta.Index == r.ap.applied {
		return nil // the FSM is already this snapshot's state (restored at start)
	}
	if err := r.fsm.Restore(rc); err != nil {
		return fmt.Errorf("raft: restore snapshot %d: %w", meta.Index, err)
	}
	r.ap.applied, r.ap.appliedTerm = meta.Index, meta.Term
	r.ap.sinceSnap, r.ap.bytesSinceSnap = 0, 0
	r.mu.Lock()
	r.fsmApplied = meta.Index
	r.confHist = []confAt{{meta.Index, meta.Conf}}
	for i, p := range r.waiters {
		if i <= meta.Index {
			p.finish(nil, ErrUnknownOutcome)
			delete(r.waiters, i)
		}
	}
	r.mu.Unlock()
	return nil
}

// answerReads releases reads whose index the FSM has reached.
func (r *Raft) answerReads() {
	keep := r.ap.reads[:0]
	for _, req := range r.ap.reads {
		if req.index <= r.ap.applied {
			req.finish(nil)
		} else {
			keep = append(keep, req)
		}
	}
	clear(r.ap.reads[len(keep):])
	r.ap.reads = keep
}

func (r *Raft) snapshotDue() bool {
	return (r.cfg.SnapshotEntries > 0 && r.ap.sinceSnap >= r.cfg.SnapshotEntries) ||
		(r.cfg.SnapshotBytes > 0 && r.ap.bytesSinceSnap >= r.cfg.SnapshotBytes)
}

// snapshotNow writes the FSM's state at the applied index to the
// SnapshotStore, then has the loop tell the core and compact the log.
func (r *Raft) snapshotNow() error {
	if r.ap.applied == 0 {
		return nil
	}
	meta := &raftpb.SnapshotMeta{Index: r.ap.applied, Term: r.ap.appliedTerm, Conf: r.confAt(r.ap.applied)}
	err := r.saveSnapshot(meta, func(w io.Writer) error { return r.fsm.Snapshot(w) })
	if err != nil {
		return err
	}
	r.ap.sinceSnap, r.ap.bytesSinceSnap = 0, 0
	return nil
}

// confAt is the configuration in force at index (which must be at or after
// the latest snapshot).
func (r *Raft) confAt(index uint64) *raftpb.ConfState {
	r.mu.Lock()
	defer r.mu.Unlock()
	var cs *raftpb.ConfState
	for _, c := range r.confHist {
		if c.index > index {
			break
		}
		cs = c.conf
	}
	if cs == nil {
		cs = &raftpb.ConfState{}
	}
	return cs
}

// countWriter counts the bytes of a snapshot.
type countWriter struct {
	w io.Writer
	n uint64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += uint64(n)
	return n, err
}

// saveSnapshot writes a snapshot for meta with write, makes it the latest,
// and compacts. An index not newer than the latest snapshot is a no-op.
func (r *Raft) saveSnapshot(meta *raftpb.SnapshotMeta, write func(io.Writer) error) error {
	r.snapMu.Lock()
	r.mu.Lock()
	latest := r.snapIndex
	r.mu.Unlock()
	if meta.Index <= latest {
		r.snapMu.Unlock()
		return nil
	}
	sink, err := r.snaps.Create(meta)
	if err != nil {
		r.snapMu.Unlock()
		return fmt.Errorf("raft: create snapshot %d: %w", meta.Index, err)
	}
	cw := &countWriter{w: sink}
	if err := write(cw); err != nil {
		sink.Cancel()
		r.snapMu.Unlock()
		return fmt.Errorf("raft: write snapshot %d: %w", meta.Index, err)
	}
	meta.Size = cw.n
	if err := sink.Close(); err != nil {
		r.snapMu.Unlock()
		return fmt.Errorf("raft: complete snapshot %d: %w", meta.Index, err)
	}
	r.mu.Lock()
	r.snapIndex = meta.Index
	// Keep the configuration in force at the snapshot and what follows.
	base := 0
	for i, c := range r.confHist {
		if c.index <= meta.Index {
			base = i
		}
	}
	r.confHist = append([]confAt(nil), r.confHist[base:]...)
	r.mu.Unlock()
	r.snapMu.Unlock()
	// The core and the log are the loop's. The applier never waits for the
	// loop (the loop may be waiting for the applier): leave a note.
	r.mu.Lock()
	if r.savedSnap == nil || r.savedSnap.Index < meta.Index {
		r.savedSnap = meta
	}
	r.mu.Unlock()
	select {
	case r.snapc <- struct{}{}:
	default:
	}
	return nil
}

// snapshotSaved tells the core about the newest saved snapshot and compacts
// the log behind it; on the loop.
func (r *Raft) snapshotSaved() {
	r.mu.Lock()
	meta := r.savedSnap
	r.savedSnap = nil
	r.mu.Unlock()
	if meta != nil {
		r.core.SetSnapshot(meta)
		r.compact(meta.Index)
	}
}

// compact drops the log up to TrailingEntries before index; on the loop.
func (r *Raft) compact(index uint64) {
	if index <= r.cfg.TrailingEntries {
		return
	}
	to := index - r.cfg.TrailingEntries
	first, err := r.logs.FirstIndex()
	if err != nil || to < first {
		return
	}
	term, err := r.logs.Term(to)
	if err != nil {
		r.logger.Warn("raft: compaction skipped", "index", to, "err", err)
		return
	}
	if err := r.logs.Compact(to, term); err != nil {
		r.logger.Warn("raft: compaction failed", "index", to, "err", err)
	}
}
