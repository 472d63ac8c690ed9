package master

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"weedfs.dev/weed/client"
	"weedfs.dev/weed/master/sequence"
	"weedfs.dev/weed/master/state"
	"weedfs.dev/weed/master/topology"
	"weedfs.dev/weed/raft"
	"weedfs.dev/weed/raft/httptransport"
	"weedfs.dev/weed/storage/superblock"
)

// view is what request handlers need of the master's role, swapped
// atomically when the leader changes.
type view struct {
	self       bool   // this master is the Raft leader
	ready      bool   // leader with its state loaded and a sequencer
	leaderAddr string // "" when no leader is known
	term       uint64
	since      time.Time // when this master became leader
	// topo is the leader's live view; on a follower, the view it had when
	// it last led (used for lookups only when no leader answers).
	topo *topology.Topology
	seq  *sequence.Sequencer // nil unless ready
}

// Server is one master. Create it with New, serve Handler on the
// configured port, call Run, and Close when done.
type Server struct {
	cfg       Config
	log       *slog.Logger
	self      string
	members   []string
	clusterID uint64
	sizeLimit uint64
	placement superblock.ReplicaPlacement

	state *state.State
	raft  *raft.Raft
	trans *httptransport.Transport
	view  atomic.Pointer[view]

	http    *http.Client
	blobs   *client.Client
	proxy   *httputil.ReverseProxy
	handler http.Handler

	growth  growthState
	vac     vacuumState
	lookups lookupCache // a follower's recent answers from the leader

	// ctx bounds background work (growth, vacuum, the leader watcher);
	// Close cancels it and waits for wg.
	ctx       context.Context
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
}

// New opens the master's Raft state in cfg.MetaDir and starts its Raft
// node. The caller serves Handler on cfg.IP:cfg.Port.
func New(cfg Config) (*Server, error) {
	cfg.setDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	placement, _ := superblock.ParseReplicaPlacement(cfg.DefaultReplication)
	s := &Server{
		cfg:       cfg,
		log:       cfg.Logger,
		self:      cfg.addr(),
		sizeLimit: cfg.VolumeSizeLimitMB << 20,
		placement: placement,
		state:     state.New(),
		http:      cfg.HTTP,
	}
	s.members = memberList(s.self, cfg.Peers)
	s.clusterID = clusterID(s.members)
	if s.http == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = 64
		s.http = &http.Client{Transport: t}
	}
	s.blobs = client.New(nil, client.Options{HTTP: s.http})
	s.proxy = s.newProxy()
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.growth.init()
	s.lookups.ttl = cfg.Pulse
	s.view.Store(&view{topo: s.newTopology()})

	node, trans, err := openRaft(&s.cfg, s.state, s.members)
	if err != nil {
		s.cancel()
		return nil, err
	}
	s.raft, s.trans = node, trans
	s.handler = s.routes()
	changes := node.LeaderChanges()
	s.wg.Add(1)
	go s.watchLeader(changes)
	s.log.Info("master started", "addr", s.self, "peers", s.members, "raft_id", PeerID(s.self))
	return s, nil
}

func (s *Server) newTopology() *topology.Topology {
	return topology.New(topology.Config{VolumeSizeLimit: s.sizeLimit})
}

// Handler serves the master's HTTP API, the heartbeat endpoint and Raft.
func (s *Server) Handler() http.Handler { return s.handler }

// Addr is this master's host:port.
func (s *Server) Addr() string { return s.self }

// IsLeader reports whether this master leads and serves assigns.
func (s *Server) IsLeader() bool {
	v := s.view.Load()
	return v.self && v.ready
}

// Leader returns the address of the leader this master knows ("" if none).
func (s *Server) Leader() string { return s.view.Load().leaderAddr }

// Topology returns the current topology view (the leader's live one).
func (s *Server) Topology() *topology.Topology { return s.view.Load().topo }

// State returns the replicated state machine (read-only use).
func (s *Server) State() *state.State { return s.state }

// watchLeader follows Raft's leader changes and swaps the view.
func (s *Server) watchLeader(changes <-chan raft.LeaderChange) {
	defer s.wg.Done()
	for {
		select {
		case <-s.ctx.Done():
			return
		case lc, ok := <-changes:
			if !ok {
				return
			}
			s.leaderChanged(lc)
		}
	}
}

func (s *Server) leaderChanged(lc raft.LeaderChange) {
	old := s.view.Load()
	if !lc.IsSelf {
		if old.seq != nil {
			old.seq.Close()
		}
		addr := lc.Addr
		if lc.LeaderID == 0 {
			addr = ""
		}
		s.view.Store(&view{leaderAddr: addr, term: lc.Term, topo: old.topo})
		s.log.Info("master leader changed", "leader", addr, "term", lc.Term)
		return
	}
	if old.self && old.term == lc.Term {
		return
	}
	if old.seq != nil {
		old.seq.Close()
	}
	// A new leader rebuilds the soft state from heartbeats: volume servers
	// send full reports, and one pulse later the view is complete.
	topo := s.newTopology()
	pending := &view{self: true, leaderAddr: s.self, term: lc.Term, since: time.Now(), topo: topo}
	s.view.Store(pending)
	s.log.Info("master became leader", "term", lc.Term)

	// Everything committed by earlier leaders must be applied before the
	// marks are read and keys reserved.
	ctx, cancel := context.WithTimeout(s.ctx, 30*time.Second)
	defer cancel()
	for {
		err := s.raft.LinearizableRead(ctx)
		if err == nil {
			break
		}
		if ctx.Err() != nil || errors.Is(err, raft.ErrClosed) || errors.Is(err, raft.ErrNotLeader) {
			s.log.Warn("leader could not catch up", "err", err)
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	// A read succeeds on a follower too: make sure the term still is ours.
	if st := s.raft.Status(); st.Role != raft.RoleLeader || st.Term != lc.Term {
		s.log.Info("leadership ended before the leader was ready", "term", lc.Term)
		return
	}
	for _, id := range s.state.ReadOnlyVolumes() {
		topo.SetReadOnlyMark(id, true)
	}
	seq := sequence.New(raftReserver{s}, s.cfg.KeyBlock)
	seq.Observe(topo.MaxFileKey())
	ready := *pending
	ready.ready, ready.seq = true, seq
	if !s.view.CompareAndSwap(pending, &ready) {
		seq.Close() // leadership moved on meanwhile
	}
}

// Run does the leader's periodic work until ctx ends or the server is
// closed: dead-node expiry every pulse and automatic vacuum.
func (s *Server) Run(ctx context.Context) error {
	expiry := time.NewTicker(s.cfg.Pulse)
	defer expiry.Stop()
	var vacuum <-chan time.Time
	if s.cfg.VacuumInterval > 0 {
		t := time.NewTicker(s.cfg.VacuumInterval)
		defer t.Stop()
		vacuum = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-s.ctx.Done():
			return nil
		case now := <-expiry.C:
			v := s.view.Load()
			if !v.self {
				continue
			}
			if dead := v.topo.Expire(now, time.Duration(s.cfg.DeadPulses)*s.cfg.Pulse); len(dead) > 0 {
				s.log.Warn("volume servers stopped beating", "servers", dead)
			}
		case <-vacuum:
			if v := s.view.Load(); v.ready {
				s.startVacuum(v, s.cfg.GarbageThreshold)
			}
		}
	}
}

// Close stops background work and the Raft node. Requests still being
// served get errors; the caller closes its HTTP server.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.cancel()
		if v := s.view.Load(); v.seq != nil {
			v.seq.Close()
		}
		err := s.raft.Close()
		s.wg.Wait()
		s.view.Store(&view{topo: s.view.Load().topo})
		if err != nil {
			s.closeErr = fmt.Errorf("master: close raft: %w", err)
		}
	})
	return s.closeErr
}

// otherPeers lists the other masters of the group.
func (s *Server) otherPeers() []string {
	return slices.DeleteFunc(slices.Clone(s.members), func(m string) bool { return m == s.self })
}

func (s *Server) raftClusterID() uint64 { return s.clusterID }
