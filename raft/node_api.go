package raft

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"weedfs.dev/weed/raft/raftpb"
)

// Propose replicates cmd and returns what FSM.Apply returned for it on this
// node, once the entry is committed and applied here.
//
// On a follower it returns a *NotLeaderError (errors.Is ErrNotLeader) naming
// the leader if known. If ctx ends first, Propose returns ctx.Err() but the
// entry may still commit and be applied later: callers that retry must make
// their commands idempotent. ErrLeadershipLost means the entry was replaced
// and will never apply; ErrUnknownOutcome that it may or may not have.
func (r *Raft) Propose(ctx context.Context, cmd []byte) (any, error) {
	return r.submit(ctx, &proposal{data: cmd, done: make(chan result, 1)})
}

func (r *Raft) submit(ctx context.Context, p *proposal) (any, error) {
	select {
	case r.propc <- p:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-r.loopDone:
		return nil, r.stoppedErr()
	}
	select {
	case res := <-p.done:
		return res.val, res.err
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-r.done:
		return nil, r.stoppedErr()
	}
}

// changeConf proposes a configuration change and waits until it is applied
// on this node (the leader).
func (r *Raft) changeConf(ctx context.Context, cc *raftpb.ConfChange) error {
	_, err := r.submit(ctx, &proposal{cc: cc, done: make(chan result, 1)})
	return err
}

// AddVoter adds a voting member reachable at addr, or promotes the learner
// id to a voter. It returns once the change is applied on the leader; the
// new member catches up from the leader (entries or a snapshot).
func (r *Raft) AddVoter(ctx context.Context, id uint64, addr string) error {
	return r.changeConf(ctx, &raftpb.ConfChange{Type: raftpb.ConfChangeType_CONF_ADD_VOTER, Id: id, Address: addr})
}

// AddLearner adds a member that receives the log but does not vote.
func (r *Raft) AddLearner(ctx context.Context, id uint64, addr string) error {
	return r.changeConf(ctx, &raftpb.ConfChange{Type: raftpb.ConfChangeType_CONF_ADD_LEARNER, Id: id, Address: addr})
}

// RemoveServer removes a member. Removing the leader itself makes it step
// down once the change is applied.
func (r *Raft) RemoveServer(ctx context.Context, id uint64) error {
	return r.changeConf(ctx, &raftpb.ConfChange{Type: raftpb.ConfChangeType_CONF_REMOVE, Id: id})
}

// ChangeMembers applies several changes at once through joint consensus.
func (r *Raft) ChangeMembers(ctx context.Context, changes []*raftpb.ConfChange) error {
	return r.changeConf(ctx, &raftpb.ConfChange{Changes: changes})
}

// TransferLeadership hands leadership to voter to and returns once this
// node sees to as leader. It fails with ErrTransferFailed if another peer
// wins or nothing happens within two election timeouts.
func (r *Raft) TransferLeadership(ctx context.Context, to uint64) error {
	changes := r.LeaderChanges()
	defer r.unsubscribe(changes)
	var err error
	if derr := r.do(func() {
		switch st := r.core.Status(); {
		case st.Role != RoleLeader:
			err = r.notLeader(ErrNotLeader)
		case st.Lead == to:
			err = errDone
		case st.Progress[to].Learner:
			err = fmt.Errorf("%w: %d is not a voter", ErrTransferFailed, to)
		default:
			if _, ok := st.Progress[to]; !ok {
				err = fmt.Errorf("%w: %d is not a member", ErrTransferFailed, to)
				return
			}
			r.core.TransferLeadership(to)
		}
	}); derr != nil {
		return derr
	}
	if errors.Is(err, errDone) {
		return nil
	}
	if err != nil {
		return err
	}
	timer := time.NewTimer(2 * r.cfg.ElectionTimeout())
	defer timer.Stop()
	for {
		select {
		case lc, ok := <-changes:
			if !ok {
				return r.stoppedErr()
			}
			if lc.LeaderID == to {
				return nil
			}
			if lc.LeaderID != 0 && lc.LeaderID != r.cfg.ID {
				return fmt.Errorf("%w: %d became leader", ErrTransferFailed, lc.LeaderID)
			}
		case <-timer.C:
			return fmt.Errorf("%w: %d did not take over in time", ErrTransferFailed, to)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// errDone: nothing left to do.
var errDone = errors.New("raft: done")

func (r *Raft) unsubscribe(ch <-chan LeaderChange) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, c := range r.subs {
		if c == ch {
			r.subs = append(r.subs[:i], r.subs[i+1:]...)
			return
		}
	}
}

// pendingRead is one LinearizableRead in flight.
type pendingRead struct {
	ctx   []byte
	index uint64 // from the ReadState
	done  chan error
}

func (q *pendingRead) finish(err error) { q.done <- err }

// LinearizableRead returns once the local FSM reflects every entry committed
// before the call, so a read of the FSM after it is linearizable. It uses
// the core's ReadIndex: the leader confirms it is still leader with a
// heartbeat round (or, with Config.LeaseRead, trusts its lease); a follower
// asks the leader. It works on followers too. ErrNotLeader when no leader
// is known; ErrLeadershipLost if the leader changed meanwhile (retry).
func (r *Raft) LinearizableRead(ctx context.Context) error {
	rctx := binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(nil, r.cfg.ID), r.readSeq.Add(1))
	req := &pendingRead{ctx: rctx, done: make(chan error, 1)}
	var err error
	if derr := r.do(func() {
		if err = r.core.ReadIndex(rctx); err != nil {
			err = r.notLeader(err)
			return
		}
		r.reads[string(rctx)] = req
	}); derr != nil {
		return derr
	}
	if err != nil {
		return err
	}
	select {
	case err := <-req.done:
		return err
	case <-ctx.Done():
		r.do(func() { delete(r.reads, string(rctx)) })
		return ctx.Err()
	case <-r.done:
		return r.stoppedErr()
	}
}

// Snapshot takes a snapshot of the FSM now (at the applied index) and
// compacts the log behind it.
func (r *Raft) Snapshot(ctx context.Context) error {
	ch := make(chan error, 1)
	var err error
	if derr := r.do(func() { err = r.toApply(&applyTask{snap: ch}) }); derr != nil {
		return derr
	}
	if err != nil {
		return r.stoppedErr()
	}
	select {
	case err := <-ch:
		return err
	case <-ctx.Done():
		return ctx.Err()
	case <-r.done:
		return r.stoppedErr()
	}
}

// CompactAt takes the application's own snapshot of its state as of index
// (an index it has applied, Status().FSMApplied or lower, and not older
// than the latest snapshot) as the latest snapshot, and compacts the log
// behind it. The bytes must be what FSM.Restore accepts. An index at or
// below the latest snapshot is a no-op.
func (r *Raft) CompactAt(ctx context.Context, index uint64, snapshot []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r.mu.Lock()
	applied, latest := r.fsmApplied, r.snapIndex
	r.mu.Unlock()
	if index > applied {
		return fmt.Errorf("raft: compact at %d: only %d applied: %w", index, applied, ErrUnavailable)
	}
	if index <= latest {
		return nil
	}
	term, err := r.logs.Term(index)
	if err != nil {
		return fmt.Errorf("raft: compact at %d: %w", index, err)
	}
	meta := &raftpb.SnapshotMeta{Index: index, Term: term, Conf: r.confAt(index)}
	return r.saveSnapshot(meta, func(w io.Writer) error {
		_, err := io.Copy(w, bytes.NewReader(snapshot))
		return err
	})
}

// Bootstrap gives a brand-new node the founding configuration of a new
// cluster. Call it with the same members on every founding node; a node
// that already has state returns ErrNotBootstrappable.
func (r *Raft) Bootstrap(ctx context.Context, members []*raftpb.Member) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var err error
	if derr := r.do(func() { err = r.bootstrap(members) }); derr != nil {
		return derr
	}
	return err
}

// bootstrap runs on the loop: a fresh core replaces the empty one.
func (r *Raft) bootstrap(members []*raftpb.Member) error {
	last, err := r.logs.LastIndex()
	if err != nil {
		return fmt.Errorf("raft: bootstrap: %w", err)
	}
	st := r.core.Status()
	r.mu.Lock()
	snap := r.snapIndex
	r.mu.Unlock()
	if last != 0 || snap != 0 || st.Term != 0 || len(st.Conf.GetMembers()) > 0 {
		return ErrNotBootstrappable
	}
	core, err := NewCore(r.coreCfg, nil, nil, &raftpb.ConfState{Members: members})
	if err != nil {
		return fmt.Errorf("raft: bootstrap: %w", err)
	}
	r.core = core
	return nil
}
