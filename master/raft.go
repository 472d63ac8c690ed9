package master

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"weedfs.dev/weed/master/state"
	"weedfs.dev/weed/pb"
	"weedfs.dev/weed/raft"
	"weedfs.dev/weed/raft/httptransport"
	"weedfs.dev/weed/raft/raftpb"
	"weedfs.dev/weed/raft/snapshots"
	"weedfs.dev/weed/raft/wal"
)

// RaftPrefix is where the Raft transport is mounted on the master's port.
const RaftPrefix = httptransport.DefaultPathPrefix

// snapshotsKept is how many Raft snapshots stay in the meta folder: the
// newest, and one before it in case the newest is found corrupt.
const snapshotsKept = 2

// ErrNoLeader: the group has no leader this master knows of.
var ErrNoLeader = errors.New("master: no leader")

// PeerID is the Raft node id of the master at addr: every master derives
// the same id from the same address, so -peers is all the configuration
// the group needs.
func PeerID(addr string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(addr))
	if id := h.Sum64(); id != 0 {
		return id
	}
	return 1
}

// clusterID names the group by its sorted member addresses, so masters
// started with different -peers lists never join each other's group.
func clusterID(peers []string) uint64 {
	return PeerID("weed-master-group|" + strings.Join(peers, ","))
}

// memberList returns the sorted, de-duplicated peer addresses with self.
func memberList(self string, peers []string) []string {
	out := append([]string{self}, peers...)
	slices.Sort(out)
	return slices.Compact(out)
}

// openRaft opens the Raft stores in the meta folder (or memory), creates
// the transport and the node, and bootstraps a brand-new group.
func openRaft(cfg *Config, fsm *state.State, members []string) (*raft.Raft, *httptransport.Transport, error) {
	rc := raft.DefaultConfig()
	if cfg.Raft != nil {
		rc = *cfg.Raft
	}
	self := cfg.addr()
	rc.ID = PeerID(self)
	rc.ClusterID = clusterID(members)
	rc.Logger = cfg.Logger.With("component", "raft")

	var logs raft.LogStore
	var stable raft.StableStore
	var snaps raft.SnapshotStore = raft.NewMemorySnapshotStore()
	if cfg.MetaDir == "" {
		logs, stable = raft.NewMemoryLogStore(), raft.NewMemoryStableStore()
	} else {
		dir := filepath.Join(cfg.MetaDir, "raft")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, nil, fmt.Errorf("master: meta folder: %w", err)
		}
		w, err := wal.Open(filepath.Join(dir, "wal"), wal.Options{Logger: cfg.Logger})
		if err != nil {
			return nil, nil, fmt.Errorf("master: raft log in %s: %w", dir, err)
		}
		logs, stable = w, w
		snapStore, err := snapshots.Open(filepath.Join(dir, "snapshots"), snapshotsKept)
		if err != nil {
			w.Close()
			return nil, nil, fmt.Errorf("master: raft snapshots in %s: %w", dir, err)
		}
		snaps = snapStore
	}
	trans := httptransport.New(httptransport.Config{
		ID: rc.ID, ClusterID: rc.ClusterID, PathPrefix: RaftPrefix, Logger: rc.Logger,
	})
	node, err := raft.New(rc, fsm, logs, stable, snaps, trans)
	if err != nil {
		logs.Close()
		if any(stable) != any(logs) {
			stable.Close()
		}
		trans.Close()
		return nil, nil, fmt.Errorf("master: start raft: %w", err)
	}
	ms := make([]*raftpb.Member, len(members))
	for i, m := range members {
		ms[i] = &raftpb.Member{Id: PeerID(m), Address: m}
	}
	if err := node.Bootstrap(context.Background(), ms); err != nil && !errors.Is(err, raft.ErrNotBootstrappable) {
		node.Close()
		return nil, nil, fmt.Errorf("master: bootstrap raft: %w", err)
	}
	return node, trans, nil
}

// propose replicates one command and returns the state machine's result,
// turning an error result into an error.
func (s *Server) propose(ctx context.Context, cmd *pb.MasterCommand) (any, error) {
	b, err := state.Encode(cmd)
	if err != nil {
		return nil, err
	}
	res, err := s.raft.Propose(ctx, b)
	if err != nil {
		return nil, fmt.Errorf("master: raft proposal: %w", err)
	}
	if e, ok := res.(error); ok {
		return nil, fmt.Errorf("master: raft proposal: %w", e)
	}
	return res, nil
}

// raftReserver reserves key blocks with ReserveKeys proposals: the
// sequencer's Reserver on the leader.
type raftReserver struct{ s *Server }

func (r raftReserver) Reserve(ctx context.Context, count, atLeast uint64) (uint64, error) {
	res, err := r.s.propose(ctx, state.ReserveKeysCommand(count, atLeast))
	if err != nil {
		return 0, err
	}
	kr, ok := res.(state.KeyRange)
	if !ok || kr.Count != count {
		return 0, fmt.Errorf("master: reserve keys: unexpected result %v", res)
	}
	return kr.Start, nil
}

// nextVolumeIDs issues count volume ids through Raft, none at or below
// what volume servers reported.
func (s *Server) nextVolumeIDs(ctx context.Context, count int, atLeast uint32) (state.VolumeIDs, error) {
	res, err := s.propose(ctx, state.NextVolumeIDCommand(uint32(count), atLeast))
	if err != nil {
		return state.VolumeIDs{}, err
	}
	ids, ok := res.(state.VolumeIDs)
	if !ok || ids.Count != uint32(count) {
		return state.VolumeIDs{}, fmt.Errorf("master: volume ids: unexpected result %v", res)
	}
	return ids, nil
}
