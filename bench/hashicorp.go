package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	hraft "github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb"
)

type hcFSM struct{ n atomic.Uint64 }

func (f *hcFSM) Apply(*hraft.Log) any { return f.n.Add(1) }

func (f *hcFSM) Snapshot() (hraft.FSMSnapshot, error) { return hcSnapshot(f.n.Load()), nil }

func (f *hcFSM) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	var n uint64
	if _, err := fmt.Fscan(rc, &n); err != nil {
		return err
	}
	f.n.Store(n)
	return nil
}

type hcSnapshot uint64

func (s hcSnapshot) Persist(sink hraft.SnapshotSink) error {
	if _, err := fmt.Fprintf(sink, "%d", uint64(s)); err != nil {
		sink.Cancel()
		return err
	}
	return sink.Close()
}

func (hcSnapshot) Release() {}

type hcNode struct {
	r     *hraft.Raft
	trans *hraft.NetworkTransport
	store *raftboltdb.BoltStore
	dead  atomic.Bool
}

// Hashicorp is a 3-node hashicorp/raft cluster with its TCP transport and
// raft-boltdb stores (fsync on every commit), default timing.
type Hashicorp struct {
	conf  *hraft.Config
	nodes []*hcNode
	lead  atomic.Int64
}

// NewHashicorp starts 3 nodes with bolt stores under dir.
func NewHashicorp(dir string) (*Hashicorp, error) {
	h := &Hashicorp{conf: hraft.DefaultConfig()}
	var servers []hraft.Server
	for i := 0; i < 3; i++ {
		trans, err := hraft.NewTCPTransport("127.0.0.1:0", nil, 3, 10*time.Second, io.Discard)
		if err != nil {
			h.Close()
			return nil, err
		}
		store, err := raftboltdb.NewBoltStore(filepath.Join(dir, fmt.Sprintf("hashicorp%d.db", i+1)))
		if err != nil {
			trans.Close()
			h.Close()
			return nil, err
		}
		conf := hraft.DefaultConfig()
		conf.LocalID = hraft.ServerID(fmt.Sprint(i + 1))
		conf.Logger = hclog.NewNullLogger()
		r, err := hraft.NewRaft(conf, &hcFSM{}, store, store, hraft.NewInmemSnapshotStore(), trans)
		if err != nil {
			trans.Close()
			store.Close()
			h.Close()
			return nil, err
		}
		h.nodes = append(h.nodes, &hcNode{r: r, trans: trans, store: store})
		servers = append(servers, hraft.Server{ID: conf.LocalID, Address: trans.LocalAddr()})
	}
	if err := h.nodes[0].r.BootstrapCluster(hraft.Configuration{Servers: servers}).Error(); err != nil {
		h.Close()
		return nil, err
	}
	return h, nil
}

// Name implements Cluster.
func (h *Hashicorp) Name() string { return "hashicorp" }

// ElectionTimeout implements Cluster: a follower campaigns after
// HeartbeatTimeout without contact.
func (h *Hashicorp) ElectionTimeout() time.Duration { return h.conf.HeartbeatTimeout }

// Propose implements Cluster.
func (h *Hashicorp) Propose(ctx context.Context, cmd []byte) error {
	for {
		i := int(h.lead.Load())
		n := h.nodes[i]
		err := hraft.ErrNotLeader
		if !n.dead.Load() {
			timeout := 5 * time.Second
			if dl, ok := ctx.Deadline(); ok {
				timeout = time.Until(dl)
			}
			err = n.r.Apply(cmd, timeout).Error()
		}
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return err
		}
		next := (i + 1) % len(h.nodes)
		if errors.Is(err, hraft.ErrNotLeader) {
			addr, _ := n.r.LeaderWithID()
			for j, m := range h.nodes {
				if m.trans.LocalAddr() == addr && !m.dead.Load() {
					next = j
				}
			}
		}
		h.lead.CompareAndSwap(int64(i), int64(next))
		if next != i && errors.Is(err, hraft.ErrNotLeader) {
			continue
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// KillLeader implements Cluster: the leader's transport is closed and the
// node shut down (its replication stops), with no leadership hand-over.
func (h *Hashicorp) KillLeader() (string, error) {
	for i, n := range h.nodes {
		if !n.dead.Load() && n.r.State() == hraft.Leader {
			n.dead.Store(true)
			n.trans.Close()
			go n.r.Shutdown()
			return fmt.Sprint(i + 1), nil
		}
	}
	return "", errors.New("hashicorp: no leader to kill")
}

// Close implements Cluster.
func (h *Hashicorp) Close() error {
	var errs []error
	for _, n := range h.nodes {
		errs = append(errs, n.r.Shutdown().Error())
		n.trans.Close()
		errs = append(errs, n.store.Close())
	}
	return errors.Join(errs...)
}
