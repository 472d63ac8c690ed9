package memtransport

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	"weedfs.dev/weed/raft"
	"weedfs.dev/weed/raft/raftpb"
)

// Errors returned by SendSnapshot.
var (
	ErrUnreachable = errors.New("memtransport: peer unreachable")
	ErrClosed      = errors.New("memtransport: transport closed")
)

// DefaultQueueSize is how many messages wait for one peer before Send drops.
const DefaultQueueSize = 1024

// reorderWait bounds how long a message held back for reordering waits for
// a successor before it is delivered anyway.
const reorderWait = 5 * time.Millisecond

// Transport is one endpoint of a Network, implementing raft.Transport.
type Transport struct {
	net       *Network
	addr      string
	queueSize int

	mu      sync.Mutex
	handler raft.Handler
	peers   map[uint64]*peer
	closed  bool
	wg      sync.WaitGroup
}

var _ raft.Transport = (*Transport)(nil)

type queued struct {
	m  *raftpb.Message
	at time.Time // when Send queued it: delays count from here
}

// peer is the outbound link to one peer, drained by its own goroutine.
type peer struct {
	id    uint64
	addr  string // guarded by Transport.mu
	queue chan queued
	stop  chan struct{}
}

// NewTransport creates the endpoint reachable at addr, replacing an earlier
// endpoint of the same address (a restarted node).
func (n *Network) NewTransport(addr string) *Transport {
	t := &Transport{net: n, addr: addr, queueSize: DefaultQueueSize, peers: make(map[uint64]*peer)}
	n.register(t)
	return t
}

// Addr is the address peers use to reach this endpoint.
func (t *Transport) Addr() string { return t.addr }

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

// AddPeer implements raft.Transport.
func (t *Transport) AddPeer(id uint64, addr string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return
	}
	if p, ok := t.peers[id]; ok {
		p.addr = addr
		return
	}
	p := &peer{id: id, addr: addr, queue: make(chan queued, t.queueSize), stop: make(chan struct{})}
	t.peers[id] = p
	t.wg.Add(1)
	go t.run(p)
}

// learnPeer adds a peer that contacted this endpoint first, so a new member
// can answer the leader before it knows the configuration.
func (t *Transport) learnPeer(id uint64, addr string) {
	t.mu.Lock()
	_, known := t.peers[id]
	t.mu.Unlock()
	if !known && id != 0 {
		t.AddPeer(id, addr)
	}
}

// RemovePeer implements raft.Transport.
func (t *Transport) RemovePeer(id uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if p, ok := t.peers[id]; ok {
		close(p.stop)
		delete(t.peers, id)
	}
}

// Send implements raft.Transport.
func (t *Transport) Send(msgs []*raftpb.Message) {
	now := time.Now()
	for _, m := range msgs {
		t.mu.Lock()
		p := t.peers[m.To]
		ok := false
		if p != nil && !t.closed {
			select {
			case p.queue <- queued{m: m, at: now}:
				ok = true
			default:
			}
		}
		t.mu.Unlock()
		if !ok {
			t.reportUnreachable(m.To)
		}
	}
}

func (t *Transport) reportUnreachable(id uint64) {
	if h := t.getHandler(); h != nil {
		h.ReportUnreachable(id)
	}
}

func (t *Transport) peerAddr(p *peer) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return p.addr
}

// run drains one peer's queue, applying the network's faults.
func (t *Transport) run(p *peer) {
	defer t.wg.Done()
	var held *raftpb.Message // a message held back to be delivered after its successor
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		var flush <-chan time.Time
		if held != nil {
			timer.Reset(reorderWait)
			flush = timer.C
		}
		select {
		case <-p.stop:
			return
		case <-flush:
			t.deliver(p, held)
			held = nil
			continue
		case q := <-p.queue:
			timer.Stop()
			addr := t.peerAddr(p)
			f := t.net.decide(t.addr, addr)
			if f.blocked {
				t.reportUnreachable(p.id)
				continue
			}
			if !f.deliver {
				continue
			}
			if wait := time.Until(q.at.Add(f.delay)); f.delay > 0 && wait > 0 {
				timer.Reset(wait)
				select {
				case <-p.stop:
					return
				case <-timer.C:
				}
			}
			if f.reorder && held == nil {
				held = q.m
				continue
			}
			t.deliver(p, q.m)
			if f.duplicate {
				t.deliver(p, q.m)
			}
			if held != nil {
				t.deliver(p, held)
				held = nil
			}
		}
	}
}

// deliver hands a copy of m to the peer's handler; it may block while the
// receiving driver is busy, which is the back-pressure a socket would give.
func (t *Transport) deliver(p *peer, m *raftpb.Message) {
	target := t.net.endpoint(t.peerAddr(p))
	if target == nil {
		t.reportUnreachable(p.id)
		return
	}
	h := target.getHandler()
	if h == nil {
		return
	}
	target.learnPeer(m.From, t.addr)
	h.Receive(proto.Clone(m).(*raftpb.Message))
	t.net.delivered(1)
}

// SendSnapshot implements raft.Transport: the data is read whole and handed
// to the receiver in one call, unless the link is blocked.
func (t *Transport) SendSnapshot(ctx context.Context, m *raftpb.Message, data io.Reader) error {
	t.mu.Lock()
	p, closed := t.peers[m.To], t.closed
	var addr string
	if p != nil {
		addr = p.addr
	}
	t.mu.Unlock()
	switch {
	case closed:
		return ErrClosed
	case p == nil:
		return fmt.Errorf("memtransport: snapshot to unknown peer %d: %w", m.To, ErrUnreachable)
	case !t.net.reachable(t.addr, addr):
		return fmt.Errorf("memtransport: snapshot to peer %d: %w", m.To, ErrUnreachable)
	}
	buf, err := io.ReadAll(data)
	if err != nil {
		return fmt.Errorf("memtransport: read snapshot: %w", err)
	}
	target := t.net.endpoint(addr)
	if target == nil {
		return fmt.Errorf("memtransport: snapshot to peer %d at %s: %w", m.To, addr, ErrUnreachable)
	}
	h := target.getHandler()
	if h == nil {
		return fmt.Errorf("memtransport: peer %d has no handler: %w", m.To, ErrUnreachable)
	}
	return h.ReceiveSnapshot(ctx, proto.Clone(m).(*raftpb.Message), bytes.NewReader(buf))
}

// Close implements raft.Transport: it unregisters the endpoint, so peers'
// messages to it are dropped as to a crashed node, and stops its links.
func (t *Transport) Close() error {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return nil
	}
	t.closed = true
	for id, p := range t.peers {
		close(p.stop)
		delete(t.peers, id)
	}
	t.mu.Unlock()
	t.net.unregister(t)
	t.wg.Wait()
	return nil
}
