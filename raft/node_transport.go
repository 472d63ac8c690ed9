package raft

import (
	"context"
	"errors"
	"fmt"
	"io"

	"weedfs.dev/weed/raft/raftpb"
)

// nodeHandler is the node's side of its Transport (raft.Handler); a
// separate type keeps these methods out of Raft's API.
type nodeHandler struct{ r *Raft }

// Receive queues a peer message for the loop, waiting while the loop is
// busy: that back-pressure reaches the sender through its connection.
func (h nodeHandler) Receive(m *raftpb.Message) {
	select {
	case h.r.recvc <- m:
	case <-h.r.loopDone:
	}
}

// ReportUnreachable notes the peer for the loop without blocking.
func (h nodeHandler) ReportUnreachable(id uint64) {
	r := h.r
	r.mu.Lock()
	r.unreach[id] = true
	r.mu.Unlock()
	select {
	case r.unreachc <- struct{}{}:
	default:
	}
}

// errSnapshotSize: the received bytes do not match the snapshot's size.
var errSnapshotSize = errors.New("raft: snapshot size mismatch")

// ReceiveSnapshot stores a leader's snapshot durably, then hands its
// MSG_SNAP to the core. If the core accepts it, the applier restores the
// FSM from the store; if not, the stored snapshot is still a correct one
// (of committed entries), only not used yet.
func (h nodeHandler) ReceiveSnapshot(ctx context.Context, m *raftpb.Message, data io.Reader) error {
	r := h.r
	meta := m.GetSnapshot()
	if meta == nil {
		return fmt.Errorf("raft: MSG_SNAP without meta from %d", m.From)
	}
	select {
	case <-r.loopDone:
		return r.stoppedErr()
	default:
	}
	err := r.saveReceived(meta, data)
	if err != nil {
		return err
	}
	select {
	case r.recvc <- m:
		return nil
	case <-r.loopDone:
		return r.stoppedErr()
	case <-ctx.Done():
		return ctx.Err()
	}
}

// saveReceived writes a received snapshot to the store unless one at least
// as new is already there.
func (r *Raft) saveReceived(meta *raftpb.SnapshotMeta, data io.Reader) error {
	r.snapMu.Lock()
	defer r.snapMu.Unlock()
	r.mu.Lock()
	latest := r.snapIndex
	r.mu.Unlock()
	if meta.Index <= latest {
		_, err := io.Copy(io.Discard, data)
		return err
	}
	sink, err := r.snaps.Create(meta)
	if err != nil {
		return fmt.Errorf("raft: store snapshot %d: %w", meta.Index, err)
	}
	n, err := io.Copy(sink, data)
	if err == nil && meta.Size != 0 && uint64(n) != meta.Size {
		err = fmt.Errorf("%w: got %d bytes, meta says %d", errSnapshotSize, n, meta.Size)
	}
	if err != nil {
		sink.Cancel()
		return fmt.Errorf("raft: receive snapshot %d: %w", meta.Index, err)
	}
	if err := sink.Close(); err != nil {
		return fmt.Errorf("raft: store snapshot %d: %w", meta.Index, err)
	}
	r.mu.Lock()
	r.snapIndex = meta.Index
	r.mu.Unlock()
	return nil
}
