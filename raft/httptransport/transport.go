package httptransport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"weedfs.dev/weed/raft"
	"weedfs.dev/weed/raft/raftpb"
)

// Header names of both requests.
const (
	HeaderClusterID = "X-Weed-Raft-Cluster-Id"
	HeaderFrom      = "X-Weed-Raft-From"
	HeaderFromAddr  = "X-Weed-Raft-From-Addr"
)

// Defaults of Config.
const (
	DefaultPathPrefix    = "/raft/"
	DefaultQueueSize     = 4096
	DefaultChunkSize     = 1 << 20
	DefaultRetryInterval = 100 * time.Millisecond
)

// ErrClosed: the transport was closed.
var ErrClosed = errors.New("httptransport: closed")

// Config configures a Transport.
type Config struct {
	// ID is this peer's id: inbound messages addressed elsewhere are refused.
	ID uint64
	// ClusterID is checked on every request and message.
	ClusterID uint64
	// Addr is the address peers reach this one at (as given to their
	// AddPeer). It is sent with every request so that a peer that does not
	// know this one yet (a new member) can answer; empty: not sent.
	Addr string
	// PathPrefix is where every peer mounts Handler (default "/raft/"). A
	// peer address without a scheme ("host:port") is reached at
	// http://host:port<PathPrefix>; an address with one ("http://h:p/x/")
	// is used as the prefix URL as it is.
	PathPrefix string
	// QueueSize bounds the messages waiting for one peer (default 4096).
	QueueSize int
	// ChunkSize is the data carried by one snapshot chunk (default 1 MiB).
	ChunkSize int
	// RetryInterval is how long a peer whose stream failed is considered
	// down (its messages are dropped) before a new stream is tried.
	RetryInterval time.Duration
	// Client sends the requests (nil: a dedicated client with keep-alive
	// and a 2 s dial timeout). It must not have a Timeout: streams are
	// long-lived.
	Client *http.Client
	// Logger receives warnings about peers (nil: discard).
	Logger *slog.Logger
}

func (c *Config) setDefaults() {
	if c.PathPrefix == "" {
		c.PathPrefix = DefaultPathPrefix
	}
	if !strings.HasSuffix(c.PathPrefix, "/") {
		c.PathPrefix += "/"
	}
	if c.QueueSize <= 0 {
		c.QueueSize = DefaultQueueSize
	}
	if c.ChunkSize <= 0 {
		c.ChunkSize = DefaultChunkSize
	}
	if c.RetryInterval <= 0 {
		c.RetryInterval = DefaultRetryInterval
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Client == nil {
		c.Client = &http.Client{Transport: &http.Transport{
			DialContext:         (&net.Dialer{Timeout: 2 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConnsPerHost: 4,
			IdleConnTimeout:     90 * time.Second,
			// Raft messages are small and latency-bound: no Nagle-style
			// batching happens in the client (Go sets TCP_NODELAY).
			DisableCompression: true,
			ForceAttemptHTTP2:  false,
		}}
	}
}

// Transport implements raft.Transport over HTTP. Create it with New, mount
// Handler() under Config.PathPrefix on the peer's HTTP server, and give it
// to raft.New.
type Transport struct {
	cfg       Config
	ownClient bool            // cfg.Client was made by New: Close closes its connections
	ctx       context.Context // canceled by Close: aborts every request
	cancel    context.CancelFunc

	mu      sync.Mutex
	handler raft.Handler
	peers   map[uint64]*peer
	closed  bool
	wg      sync.WaitGroup
}

var _ raft.Transport = (*Transport)(nil)

// New returns a transport with no peers.
func New(cfg Config) *Transport {
	own := cfg.Client == nil
	cfg.setDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	return &Transport{cfg: cfg, ownClient: own, ctx: ctx, cancel: cancel, peers: make(map[uint64]*peer)}
}

// SetHandler implements raft.Transport.
func (t *Transport) SetHandler(h raft.Handler) {
	t.mu.Lock()
	t.handler = h
	t.mu.Unlock()
}

func (t *Transport) getHandler() raft.Handler {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil
	}
	return t.handler
}

func (t *Transport) reportUnreachable(id uint64) {
	if h := t.getHandler(); h != nil {
		h.ReportUnreachable(id)
	}
}

// prefixURL turns a peer address into the URL its Handler is mounted at.
func (t *Transport) prefixURL(addr string) string {
	if strings.HasPrefix(addr, "http://") || strings.HasPrefix(addr, "https://") {
		if !strings.HasSuffix(addr, "/") {
			addr += "/"
		}
		return addr
	}
	return "http://" + addr + t.cfg.PathPrefix
}

// AddPeer implements raft.Transport. A new address takes effect with the
// peer's next stream (the current one is cut).
func (t *Transport) AddPeer(id uint64, addr string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed || id == t.cfg.ID {
		return
	}
	url := t.prefixURL(addr)
	if p, ok := t.peers[id]; ok {
		if p.url != url {
			p.url = url
			p.cancelStream()
		}
		return
	}
	ctx, cancel := context.WithCancel(t.ctx)
	p := &peer{t: t, id: id, url: url, queue: make(chan *raftpb.Message, t.cfg.QueueSize), ctx: ctx, cancel: cancel}
	t.peers[id] = p
	t.wg.Add(1)
	go p.run()
}

// learnPeer adds a peer that contacted this one first (see raft.Transport).
func (t *Transport) learnPeer(id uint64, addr string) {
	t.mu.Lock()
	_, known := t.peers[id]
	t.mu.Unlock()
	if !known && id != 0 && addr != "" {
		t.AddPeer(id, addr)
	}
}

// RemovePeer implements raft.Transport.
func (t *Transport) RemovePeer(id uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if p, ok := t.peers[id]; ok {
		p.cancel()
		delete(t.peers, id)
	}
}

// Send implements raft.Transport.
func (t *Transport) Send(msgs []*raftpb.Message) {
	for _, m := range msgs {
		t.mu.Lock()
		p := t.peers[m.To]
		ok := false
		if p != nil && !t.closed {
			ok = p.enqueue(m)
		}
		t.mu.Unlock()
		if !ok {
			t.reportUnreachable(m.To)
		}
	}
}

// Close implements raft.Transport: it aborts every stream and snapshot
// transfer and waits for the peer goroutines. Inbound requests being served
// by Handler end when the application's server closes them.
func (t *Transport) Close() error {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return nil
	}
	t.closed = true
	for id, p := range t.peers {
		p.cancel()
		delete(t.peers, id)
	}
	t.mu.Unlock()
	t.cancel()
	t.wg.Wait()
	if t.ownClient {
		t.cfg.Client.CloseIdleConnections()
	}
	return nil
}

func (t *Transport) peerURL(id uint64) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return "", ErrClosed
	}
	p, ok := t.peers[id]
	if !ok {
		return "", fmt.Errorf("httptransport: unknown peer %d", id)
	}
	return p.url, nil
}

// drainBody reads a little of a response so the connection can be reused.
func drainBody(r io.ReadCloser) string {
	b, _ := io.ReadAll(io.LimitReader(r, 512))
	r.Close()
	return strings.TrimSpace(string(b))
}
