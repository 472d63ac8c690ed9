package raft

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand"
	"sync"
	"sync/atomic"
	"time"

	"weedfs.dev/weed/raft/raftpb"
)

// Errors of the driver. Callers compare with errors.Is.
var (
	// ErrClosed: the node was closed, or stopped on a storage error
	// (Status().Err and Close say which).
	ErrClosed = errors.New("raft: node closed")
	// ErrLeadershipLost: the proposal's entry was replaced by another
	// leader's; it did not and will not commit.
	ErrLeadershipLost = errors.New("raft: leadership lost, entry not committed")
	// ErrUnknownOutcome: the node installed a leader's snapshot covering the
	// proposal's index, so whether the proposal committed is unknown.
	ErrUnknownOutcome = errors.New("raft: proposal outcome unknown")
	// ErrNotBootstrappable: Bootstrap on a node that already has state.
	ErrNotBootstrappable = errors.New("raft: node already has state")
	// ErrTransferFailed: leadership did not move to the requested peer.
	ErrTransferFailed = errors.New("raft: leadership transfer failed")
)

// errStopping: the loop noticed Close (or a fatal error) while working.
var errStopping = errors.New("raft: stopping")

// NotLeaderError is returned by Propose and the other leader-only calls on
// a follower. It matches ErrNotLeader with errors.Is; use errors.As to read
// the leader it knows of (0 and "" when none).
type NotLeaderError struct {
	LeaderID   uint64
	LeaderAddr string
}

func (e *NotLeaderError) Error() string {
	if e.LeaderID == 0 {
		return "raft: not leader, no leader known"
	}
	return fmt.Sprintf("raft: not leader, leader is %d at %s", e.LeaderID, e.LeaderAddr)
}

// Unwrap makes errors.Is(err, ErrNotLeader) true.
func (e *NotLeaderError) Unwrap() error { return ErrNotLeader }

// LeaderChange tells that the leader known to this node changed.
type LeaderChange struct {
	Term     uint64
	LeaderID uint64 // 0: no leader known
	Addr     string
	IsSelf   bool // this node became leader
}

// NodeStatus is a node's state: the core's view plus the driver's.
type NodeStatus struct {
	Status               // the core's view: term, leader, role, commit, configuration, progress (leader)
	LeaderAddr    string // address of Lead, when known
	FSMApplied    uint64 // last entry applied to the FSM
	SnapshotIndex uint64 // index of the latest snapshot (0: none)
	Err           error  // why the node stopped, once it has
}

// stateSaver is implemented by stores that make a Ready's entries and
// HardState durable with one sync (raft/wal); used when the same object is
// both the LogStore and the StableStore.
type stateSaver interface {
	Save(hs *raftpb.HardState, ents []*raftpb.Entry) error
}

// Raft is one running peer: it owns a Core, drives it with a clock, persists
// what it produces, sends its messages and applies committed entries to the
// FSM. Create it with New; every method is safe for concurrent use.
type Raft struct {
	cfg    Config
	logger *slog.Logger
	fsm    FSM
	logs   LogStore
	stable StableStore
	snaps  SnapshotStore
	trans  Transport
	saver  stateSaver // nil: Append then SaveHardState

	coreCfg CoreConfig
	core    *Core // owned by the loop goroutine

	// Loop inputs.
	propc    chan *proposal
	recvc    chan *raftpb.Message
	reqc     chan func()
	unreachc chan struct{} // capacity 1: "look at unreach"
	snapc    chan struct{} // capacity 1: "look at savedSnap"
	applyc   chan *applyTask

	stopc     chan struct{}   // closed by Close or a fatal error
	ctx       context.Context // canceled with stopc: aborts snapshot transfers
	cancel    context.CancelFunc
	stopOnce  sync.Once
	loopDone  chan struct{} // the loop exited
	done      chan struct{} // loop and applier exited
	senders   sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
	readSeq   atomic.Uint64

	// Loop-only state.
	// stableIndex is the last index durable in the LogStore. savedHS is the
	// HardState on disk, latestHS the core's newest (they differ only in
	// commit: see persist).
	stableIndex       uint64
	savedHS, latestHS *raftpb.HardState
	lead              uint64
	peers             map[uint64]string // transport's view of the configuration
	reads             map[string]*pendingRead
	snapSends         map[uint64]bool // peers with a snapshot transfer running

	// Applier-only state.
	ap applier

	snapMu sync.Mutex // serializes writes to the SnapshotStore

	mu         sync.Mutex
	err        error // first fatal error
	waiters    map[uint64]*proposal
	addrs      map[uint64]string    // member addresses, for NotLeaderError
	unreach    map[uint64]bool      // peers reported unreachable since the loop last looked
	savedSnap  *raftpb.SnapshotMeta // saved, not yet told to the core
	knownLead  uint64               // the loop's lead, for Leader
	fsmApplied uint64
	snapIndex  uint64
	confHist   []confAt // configurations by index since the latest snapshot
	subs       []chan LeaderChange
	lastStatus NodeStatus
}

type confAt struct {
	index uint64
	conf  *raftpb.ConfState
}

// New starts a node from what its stores hold: it restores the FSM from the
// latest snapshot, builds the core and starts the driver goroutines. A
// brand-new node (empty stores) has no configuration: call Bootstrap on
// every founding member, or add it to a running cluster (AddVoter or
// AddLearner on the leader) and it will be caught up.
//
// The node owns its dependencies from then on: Close closes the transport
// and the stores.
func New(cfg Config, fsm FSM, logs LogStore, stable StableStore, snaps SnapshotStore, t Transport) (*Raft, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if fsm == nil || logs == nil || stable == nil || snaps == nil || t == nil {
		return nil, fmt.Errorf("%w: nil dependency", ErrBadConfig)
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = logger.With("raft", cfg.ID)
	seed := cfg.Seed
	if seed == 0 {
		seed = time.Now().UnixNano() ^ int64(cfg.ID)
	}
	r := &Raft{
		cfg: cfg, logger: logger, fsm: fsm, logs: logs, stable: stable, snaps: snaps, trans: t,
		coreCfg: CoreConfig{
			ID: cfg.ID, ClusterID: cfg.ClusterID,
			ElectionTick: cfg.ElectionTicks, HeartbeatTick: cfg.HeartbeatTicks,
			PreVote: cfg.PreVote, CheckQuorum: cfg.CheckQuorum, LeaseRead: cfg.LeaseRead,
			MaxSizePerMsg: cfg.MaxSizePerMsg, MaxInflightMsgs: cfg.MaxInflightMsgs, MaxInflightBytes: cfg.MaxInflightBytes,
			Rand: rand.New(rand.NewSource(seed)), Log: logs, Logger: logger,
		},
		propc:     make(chan *proposal, cfg.ProposalQueue),
		recvc:     make(chan *raftpb.Message, 1024),
		reqc:      make(chan func(), 16),
		unreachc:  make(chan struct{}, 1),
		snapc:     make(chan struct{}, 1),
		applyc:    make(chan *applyTask, 256),
		stopc:     make(chan struct{}),
		loopDone:  make(chan struct{}),
		done:      make(chan struct{}),
		peers:     make(map[uint64]string),
		reads:     make(map[string]*pendingRead),
		snapSends: make(map[uint64]bool),
		waiters:   make(map[uint64]*proposal),
		addrs:     make(map[uint64]string),
		unreach:   make(map[uint64]bool),
	}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	if s, ok := logs.(stateSaver); ok && any(logs) == any(stable) {
		r.saver = s
	}
	if err := r.start(); err != nil {
		r.cancel()
		return nil, err
	}
	t.SetHandler(nodeHandler{r})
	r.syncPeers(r.core.Status().Conf)
	go r.run()
	go r.runApply()
	return r, nil
}

// start restores the FSM and builds the core.
func (r *Raft) start() error {
	hs, err := r.stable.HardState()
	if err != nil {
		return fmt.Errorf("raft: read hard state: %w", err)
	}
	meta, rc, err := r.snaps.Latest()
	switch {
	case errors.Is(err, ErrNoSnapshot):
		meta = nil
	case err != nil:
		return fmt.Errorf("raft: open latest snapshot: %w", err)
	default:
		err := r.fsm.Restore(rc)
		rc.Close()
		if err != nil {
			return fmt.Errorf("raft: restore snapshot %d: %w", meta.Index, err)
		}
		r.ap.applied, r.ap.appliedTerm = meta.Index, meta.Term
		r.fsmApplied, r.snapIndex = meta.Index, meta.Index
		r.confHist = []confAt{{meta.Index, meta.Conf}}
	}
	if r.core, err = NewCore(r.coreCfg, hs, meta, nil); err != nil {
		return fmt.Errorf("raft: start core: %w", err)
	}
	if hs == nil {
		hs = &raftpb.HardState{}
	}
	r.savedHS, r.latestHS = hs, hs
	if r.stableIndex, err = r.logs.LastIndex(); err != nil {
		return fmt.Errorf("raft: read last index: %w", err)
	}
	return nil
}

// run is the loop goroutine: the only one that touches the core.
func (r *Raft) run() {
	defer close(r.loopDone)
	defer close(r.applyc)
	ticker := time.NewTicker(r.cfg.TickInterval)
	defer ticker.Stop()
	for {
		select {
		case <-r.stopc:
			r.flushHardState()
			return
		case <-ticker.C:
			r.core.Tick()
		case m := <-r.recvc:
			r.step(m)
		case p := <-r.propc:
			r.propose(p)
		case fn := <-r.reqc:
			fn()
		case <-r.unreachc:
			r.stepUnreachable()
		case <-r.snapc:
			r.snapshotSaved()
		}
		r.drainInputs()
		if err := r.processReady(); err != nil {
			if !errors.Is(err, errStopping) {
				r.fail(err)
			}
			return
		}
	}
}

// drainInputs takes what else is already waiting, so that one Ready (one
// fsync, one MSG_APP per follower) carries many proposals.
func (r *Raft) drainInputs() {
	for n := 1; n < r.cfg.MaxBatchEntries; n++ {
		select {
		case m := <-r.recvc:
			r.step(m)
		case p := <-r.propc:
			r.propose(p)
		case fn := <-r.reqc:
			fn()
		default:
			return
		}
	}
}

func (r *Raft) step(m *raftpb.Message) {
	if err := r.core.Step(m); err != nil {
		r.logger.Debug("raft: message refused", "type", m.Type, "from", m.From, "err", err)
	}
}

func (r *Raft) stepUnreachable() {
	r.mu.Lock()
	ids := make([]uint64, 0, len(r.unreach))
	for id := range r.unreach {
		ids = append(ids, id)
	}
	clear(r.unreach)
	r.mu.Unlock()
	for _, id := range ids {
		r.step(&raftpb.Message{Type: raftpb.MessageType_MSG_UNREACHABLE, From: id, To: r.cfg.ID, ClusterId: r.cfg.ClusterID})
	}
}

// fail records the first fatal error and stops the node.
func (r *Raft) fail(err error) {
	r.mu.Lock()
	if r.err == nil {
		r.err = err
		r.logger.Error("raft: node stopped", "err", err)
	}
	r.mu.Unlock()
	r.stopOnce.Do(func() { close(r.stopc); r.cancel() })
}

// stoppedErr is what callers waiting on a stopped node get.
func (r *Raft) stoppedErr() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return fmt.Errorf("%w: %w", ErrClosed, r.err)
	}
	return ErrClosed
}

// do runs fn on the loop goroutine and waits for it.
func (r *Raft) do(fn func()) error {
	ran := make(chan struct{})
	select {
	case r.reqc <- func() { fn(); close(ran) }:
	case <-r.loopDone:
		return r.stoppedErr()
	}
	select {
	case <-ran:
		return nil
	case <-r.loopDone:
		return r.stoppedErr()
	}
}

// Close stops the node: the loop, the applier and snapshot transfers end,
// then the transport and the stores are closed. Pending calls return
// ErrClosed. It returns the error that stopped the node, if one did, and is
// safe to call more than once.
func (r *Raft) Close() error {
	r.closeOnce.Do(func() {
		r.stopOnce.Do(func() { close(r.stopc); r.cancel() })
		<-r.done
		r.senders.Wait()
		errs := []error{r.trans.Close()}
		errs = append(errs, r.logs.Close())
		if any(r.stable) != any(r.logs) {
			errs = append(errs, r.stable.Close())
		}
		if c, ok := r.snaps.(io.Closer); ok {
			errs = append(errs, c.Close())
		}
		r.mu.Lock()
		errs = append(errs, r.err)
		subs := r.subs
		r.subs = nil
		r.mu.Unlock()
		for _, ch := range subs {
			close(ch)
		}
		r.closeErr = errors.Join(errs...)
	})
	return r.closeErr
}

// Status returns the node's state. After the node stopped it returns the
// last state seen, with Err set.
func (r *Raft) Status() NodeStatus {
	var st NodeStatus
	err := r.do(func() {
		st.Status = r.core.Status()
		r.mu.Lock()
		st.LeaderAddr = r.addrs[st.Lead]
		st.FSMApplied, st.SnapshotIndex = r.fsmApplied, r.snapIndex
		r.lastStatus = st
		r.mu.Unlock()
	})
	if err != nil {
		r.mu.Lock()
		st = r.lastStatus
		st.FSMApplied, st.SnapshotIndex = r.fsmApplied, r.snapIndex
		st.Err = r.err
		if st.Err == nil {
			st.Err = ErrClosed
		}
		r.mu.Unlock()
	}
	return st
}

// Leader returns the leader this node knows of (0 and "" when none),
// without a round trip to the loop: cheap enough for every request. It may
// be stale by the time it is used; Propose and LinearizableRead are the
// authority.
func (r *Raft) Leader() (id uint64, addr string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.knownLead, r.addrs[r.knownLead]
}

// IsLeader reports whether this node believes it is the leader (see Leader).
func (r *Raft) IsLeader() bool {
	id, _ := r.Leader()
	return id == r.cfg.ID
}

// LeaderChanges returns a channel that receives every change of the known
// leader from now on, closed by Close. A reader that falls behind loses the
// oldest changes (the channel holds 16); Status is always current.
func (r *Raft) LeaderChanges() <-chan LeaderChange {
	ch := make(chan LeaderChange, 16)
	r.mu.Lock()
	r.subs = append(r.subs, ch)
	r.mu.Unlock()
	return ch
}

// notifyLeader is called by the loop when the leader changed.
func (r *Raft) notifyLeader(lc LeaderChange) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, ch := range r.subs {
		select {
		case ch <- lc:
		default:
			select { // drop the oldest, keep the newest
			case <-ch:
			default:
			}
			select {
			case ch <- lc:
			default:
			}
		}
	}
}
