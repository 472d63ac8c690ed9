package raft_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"weedfs.dev/weed/raft"
	"weedfs.dev/weed/raft/httptransport"
	"weedfs.dev/weed/raft/raftpb"
	"weedfs.dev/weed/raft/snapshots"
	"weedfs.dev/weed/raft/wal"
)

// gate cuts a node off the network: it tracks the node's connections, both
// accepted and dialed, closes them all on block and refuses new ones until
// unblock. That is what a pulled cable or a dead process looks like to the
// peers.
type gate struct {
	mu      sync.Mutex
	blocked bool
	conns   map[net.Conn]struct{}
}

var errGateBlocked = errors.New("gate: blocked")

func newGate() *gate { return &gate{conns: map[net.Conn]struct{}{}} }

func (g *gate) track(c net.Conn) net.Conn {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.blocked {
		c.Close()
		return nil
	}
	g.conns[c] = struct{}{}
	return &gatedConn{Conn: c, g: g}
}

func (g *gate) forget(c net.Conn) {
	g.mu.Lock()
	delete(g.conns, c)
	g.mu.Unlock()
}

func (g *gate) block() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.blocked = true
	for c := range g.conns {
		c.Close()
	}
	clear(g.conns)
}

func (g *gate) unblock() {
	g.mu.Lock()
	g.blocked = false
	g.mu.Unlock()
}

func (g *gate) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	c, err := (&net.Dialer{Timeout: time.Second}).DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	if gc := g.track(c); gc != nil {
		return gc, nil
	}
	return nil, errGateBlocked
}

type gatedConn struct {
	net.Conn
	g *gate
}

func (c *gatedConn) Close() error {
	c.g.forget(c.Conn)
	return c.Conn.Close()
}

type gatedListener struct {
	net.Listener
	g *gate
}

func (l *gatedListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if gc := l.g.track(c); gc != nil {
			return gc, nil
		}
	}
}

// httpNode is a peer over loopback HTTP with its WAL and snapshots in a
// directory.
type httpNode struct {
	id     uint64
	dir    string
	addr   string
	cfg    raft.Config
	gate   *gate
	srv    *http.Server
	r      *raft.Raft
	fsm    *kvFSM
	snaps  raft.SnapshotStore
	client *http.Transport // the transport's connections to its peers
}

type httpCluster struct {
	t     testing.TB
	mu    sync.Mutex // guards nodes and each node's r, srv and gate: load goroutines read them
	nodes map[uint64]*httpNode
}

// clusterConfig: 30 ms ticks, 300-600 ms election timeout, WAL fsyncs on a
// loaded machine do not cause spurious elections.
func clusterConfig(id uint64) raft.Config {
	cfg := testConfig(id)
	cfg.TickInterval = 30 * time.Millisecond
	cfg.SnapshotEntries = 200
	cfg.TrailingEntries = 50
	return cfg
}

func newHTTPCluster(t testing.TB, n int) *httpCluster {
	return newHTTPClusterWith(t, n, nil)
}

// newHTTPClusterWith lets tweak change each node's configuration.
func newHTTPClusterWith(t testing.TB, n int, tweak func(id uint64, cfg *raft.Config)) *httpCluster {
	t.Helper()
	c := &httpCluster{t: t, nodes: map[uint64]*httpNode{}}
	var members []*raftpb.Member
	for id := uint64(1); id <= uint64(n); id++ {
		nd := c.newNode(id)
		if tweak != nil {
			tweak(id, &nd.cfg)
		}
		members = append(members, &raftpb.Member{Id: id, Address: nd.addr})
	}
	for _, nd := range c.all() {
		c.start(nd)
	}
	for _, nd := range c.all() {
		if err := nd.r.Bootstrap(context.Background(), members); err != nil {
			t.Fatalf("bootstrap %d: %v", nd.id, err)
		}
	}
	t.Cleanup(c.closeAll)
	return c
}

// newNode reserves a directory and a loopback port for a node.
func (c *httpCluster) newNode(id uint64) *httpNode {
	c.t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		c.t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	nd := &httpNode{id: id, dir: filepath.Join(c.t.TempDir(), fmt.Sprint(id)), addr: addr, cfg: clusterConfig(id)}
	c.mu.Lock()
	c.nodes[id] = nd
	c.mu.Unlock()
	return nd
}

// start opens the node's WAL and serves it on its address.
func (c *httpCluster) start(nd *httpNode) {
	c.t.Helper()
	var ln net.Listener
	var err error
	for i := 0; i < 50; i++ { // the port may linger briefly after a kill
		if ln, err = net.Listen("tcp", nd.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		c.t.Fatalf("listen %s: %v", nd.addr, err)
	}
	w, err := wal.Open(filepath.Join(nd.dir, "wal"), wal.Options{})
	if err != nil {
		c.t.Fatalf("open wal of %d: %v", nd.id, err)
	}
	snaps, err := snapshots.Open(filepath.Join(nd.dir, "snapshots"), 2)
	if err != nil {
		c.t.Fatalf("open snapshots of %d: %v", nd.id, err)
	}
	g := newGate()
	client := &http.Transport{DialContext: g.dial, MaxIdleConnsPerHost: 4}
	tr := httptransport.New(httptransport.Config{
		ID: nd.id, ClusterID: nd.cfg.ClusterID, Addr: nd.addr, RetryInterval: 20 * time.Millisecond,
		Client: &http.Client{Transport: client},
	})
	fsm := newKV()
	r, err := raft.New(nd.cfg, fsm, w, w, snaps, tr)
	if err != nil {
		c.t.Fatalf("start %d: %v", nd.id, err)
	}
	mux := http.NewServeMux()
	mux.Handle(httptransport.DefaultPathPrefix, tr.Handler())
	srv := &http.Server{Handler: mux}
	c.mu.Lock()
	nd.r, nd.fsm, nd.gate, nd.srv, nd.snaps, nd.client = r, fsm, g, srv, snaps, client
	c.mu.Unlock()
	go srv.Serve(&gatedListener{Listener: ln, g: g})
}

// stop closes the node cleanly.
func (c *httpCluster) stop(nd *httpNode) error {
	c.mu.Lock()
	r, srv, client := nd.r, nd.srv, nd.client
	nd.r = nil
	c.mu.Unlock()
	if r == nil {
		return nil
	}
	srv.Close()
	err := r.Close()
	client.CloseIdleConnections()
	return err
}

// kill cuts the node off abruptly: every connection dies and its server
// stops, as when the process is killed. Its goroutines are reclaimed by a
// later stop (the test's cleanup), which the peers never see.
func (c *httpCluster) kill(nd *httpNode) {
	c.mu.Lock()
	g, srv := nd.gate, nd.srv
	c.mu.Unlock()
	g.block()
	srv.Close()
}

func (c *httpCluster) closeAll() {
	for _, nd := range c.all() {
		c.stop(nd)
	}
}

func (c *httpCluster) all() []*httpNode {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []*httpNode
	for _, nd := range c.nodes {
		out = append(out, nd)
	}
	return out
}

// live lists the running nodes that are not cut off.
func (c *httpCluster) live() []*httpNode {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []*httpNode
	for _, nd := range c.nodes {
		if nd.r != nil && !nd.gate.isBlocked() {
			out = append(out, nd)
		}
	}
	return out
}

func (g *gate) isBlocked() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.blocked
}

func (c *httpCluster) rafts() []*raft.Raft {
	var out []*raft.Raft
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, nd := range c.nodes {
		if nd.r != nil && !nd.gate.isBlocked() {
			out = append(out, nd.r)
		}
	}
	return out
}

// leader waits until a live node leads and every live member of its
// configuration agrees.
func (c *httpCluster) leader(d time.Duration) *httpNode {
	c.t.Helper()
	var lead *httpNode
	waitUntil(c.t, d, "an agreed leader", func() bool {
		lead = nil
		var best raft.NodeStatus
		live := c.live()
		for _, nd := range live {
			if st := nd.r.Status(); st.Role == raft.RoleLeader && st.Term > best.Term {
				lead, best = nd, st
			}
		}
		if lead == nil {
			return false
		}
		for _, nd := range live {
			if found, _ := memberOf(best.Conf, nd.id); found && nd.r.Status().Lead != lead.id {
				return false
			}
		}
		return true
	})
	return lead
}

// load proposes from several goroutines until stopped, recording every
// acknowledged key: those must survive anything.
type load struct {
	mu    sync.Mutex
	acked map[string]string
	stop  chan struct{}
	wg    sync.WaitGroup
}

func startLoad(c *httpCluster, workers int, prefix string) *load {
	l := &load{acked: map[string]string{}, stop: make(chan struct{})}
	for w := 0; w < workers; w++ {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for i := 0; ; i++ {
				select {
				case <-l.stop:
					return
				default:
				}
				k, v := fmt.Sprintf("%s-%d-%d", prefix, w, i), fmt.Sprint(i)
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				err := propose(ctx, c.rafts, k+"="+v)
				cancel()
				if err == nil {
					l.mu.Lock()
					l.acked[k] = v
					l.mu.Unlock()
				}
			}
		}()
	}
	return l
}

func (l *load) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.acked)
}

// waitMore waits until n more proposals are acknowledged.
func (l *load) waitMore(t testing.TB, n int, d time.Duration) {
	t.Helper()
	target := l.count() + n
	waitUntil(t, d, fmt.Sprintf("%d acknowledged proposals", target), func() bool { return l.count() >= target })
}

func (l *load) finish() map[string]string {
	close(l.stop)
	l.wg.Wait()
	return l.acked
}
