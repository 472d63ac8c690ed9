package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"sync/atomic"
	"time"

	"weedfs.dev/weed/raft"
	"weedfs.dev/weed/raft/httptransport"
	"weedfs.dev/weed/raft/raftpb"
	"weedfs.dev/weed/raft/snapshots"
	"weedfs.dev/weed/raft/wal"
)

// countFSM counts applied commands; its snapshot is the count.
type countFSM struct{ n atomic.Uint64 }

func (f *countFSM) Apply(*raftpb.Entry) any { return f.n.Add(1) }
func (f *countFSM) Snapshot(w io.Writer) error {
	_, err := fmt.Fprintf(w, "%d", f.n.Load())
	return err
}
func (f *countFSM) Restore(r io.Reader) error {
	var n uint64
	if _, err := fmt.Fscan(r, &n); err != nil {
		return err
	}
	f.n.Store(n)
	return nil
}

type weedNode struct {
	r    *raft.Raft
	tr   *httptransport.Transport
	srv  *http.Server
	dead atomic.Bool
}

// Weed is a 3-node weed Raft cluster over loopback HTTP with fsynced WALs
// and file snapshots.
type Weed struct {
	cfg   raft.Config
	nodes []*weedNode
	lead  atomic.Int64 // index into nodes of the last known leader
}

// NewWeed starts 3 nodes with raft.DefaultConfig timing and WALs under dir.
func NewWeed(dir string) (*Weed, error) {
	w := &Weed{cfg: raft.DefaultConfig()}
	var lns []net.Listener
	var members []*raftpb.Member
	for i := 0; i < 3; i++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		lns = append(lns, ln)
		members = append(members, &raftpb.Member{Id: uint64(i + 1), Address: ln.Addr().String()})
	}
	for i, m := range members {
		cfg := w.cfg
		cfg.ID, cfg.ClusterID = m.Id, 1
		log, err := wal.Open(filepath.Join(dir, fmt.Sprintf("weed%d", m.Id)), wal.Options{})
		if err != nil {
			w.Close()
			return nil, err
		}
		snaps, err := snapshots.Open(filepath.Join(dir, fmt.Sprintf("weed%d-snapshots", m.Id)), 2)
		if err != nil {
			log.Close()
			w.Close()
			return nil, err
		}
		tr := httptransport.New(httptransport.Config{ID: m.Id, ClusterID: 1, Addr: m.Address})
		r, err := raft.New(cfg, &countFSM{}, log, log, snaps, tr)
		if err != nil {
			w.Close()
			return nil, err
		}
		mux := http.NewServeMux()
		mux.Handle(httptransport.DefaultPathPrefix, tr.Handler())
		n := &weedNode{r: r, tr: tr, srv: &http.Server{Handler: mux}}
		go n.srv.Serve(lns[i])
		w.nodes = append(w.nodes, n)
	}
	for _, n := range w.nodes {
		if err := n.r.Bootstrap(context.Background(), members); err != nil {
			w.Close()
			return nil, err
		}
	}
	return w, nil
}

// Name implements Cluster.
func (w *Weed) Name() string { return "weed" }

// ElectionTimeout implements Cluster.
func (w *Weed) ElectionTimeout() time.Duration { return w.cfg.ElectionTimeout() }

// Propose implements Cluster.
func (w *Weed) Propose(ctx context.Context, cmd []byte) error {
	for {
		i := int(w.lead.Load())
		n := w.nodes[i]
		var err error
		if n.dead.Load() {
			err = raft.ErrNotLeader
		} else {
			_, err = n.r.Propose(ctx, cmd)
		}
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return err
		}
		var nle *raft.NotLeaderError
		if errors.As(err, &nle) && nle.LeaderID != 0 && !w.nodes[nle.LeaderID-1].dead.Load() {
			w.lead.CompareAndSwap(int64(i), int64(nle.LeaderID-1))
			continue
		}
		w.lead.CompareAndSwap(int64(i), int64((i+1)%len(w.nodes)))
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// KillLeader implements Cluster: the leader's server and connections are
// closed; the node itself is reclaimed by Close.
func (w *Weed) KillLeader() (string, error) {
	for i, n := range w.nodes {
		if !n.dead.Load() && n.r.Status().Role == raft.RoleLeader {
			n.dead.Store(true)
			n.srv.Close()
			n.tr.Close()
			return fmt.Sprint(i + 1), nil
		}
	}
	return "", errors.New("weed: no leader to kill")
}

// Close implements Cluster.
func (w *Weed) Close() error {
	var errs []error
	for _, n := range w.nodes {
		n.srv.Close()
		errs = append(errs, n.r.Close())
	}
	return errors.Join(errs...)
}
