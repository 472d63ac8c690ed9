package memtransport

import (
	"math/rand/v2"
	"sync"
	"time"
)

// Faults describes what a link does to the messages crossing it. The zero
// value is a perfect link.
type Faults struct {
	Drop      float64       // probability that a message is lost
	Duplicate float64       // probability that a message is delivered twice
	Reorder   float64       // probability that a message is held back and delivered after the next one
	Delay     time.Duration // added to every message's latency
	Jitter    time.Duration // a random extra latency in [0, Jitter)
}

// Stats counts what the network did, for tests that check faults happened.
type Stats struct {
	Sent, Delivered, Dropped, Duplicated, Reordered, Blocked uint64
}

type link struct{ from, to string }

// Network connects the transports created from it. Its methods are safe for
// concurrent use; fault settings apply to messages sent after the call.
type Network struct {
	mu        sync.Mutex
	rng       *rand.Rand
	endpoints map[string]*Transport
	faults    Faults
	linkFault map[link]Faults
	blocked   map[link]bool
	stats     Stats
}

// NewNetwork returns an empty network whose random choices come from seed.
func NewNetwork(seed uint64) *Network {
	return &Network{
		rng:       rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		endpoints: make(map[string]*Transport),
		linkFault: make(map[link]Faults),
		blocked:   make(map[link]bool),
	}
}

// SetFaults sets the faults of every link that has no faults of its own.
func (n *Network) SetFaults(f Faults) {
	n.mu.Lock()
	n.faults = f
	n.mu.Unlock()
}

// SetLinkFaults sets the faults of the one-way link from -> to.
func (n *Network) SetLinkFaults(from, to string, f Faults) {
	n.mu.Lock()
	n.linkFault[link{from, to}] = f
	n.mu.Unlock()
}

// Block stops every message from -> to (one way) until Unblock or Heal.
func (n *Network) Block(from, to string) {
	n.mu.Lock()
	n.blocked[link{from, to}] = true
	n.mu.Unlock()
}

// Unblock reopens the link from -> to.
func (n *Network) Unblock(from, to string) {
	n.mu.Lock()
	delete(n.blocked, link{from, to})
	n.mu.Unlock()
}

// Isolate blocks addr from every other endpoint, both ways, including
// endpoints created later (until Heal).
func (n *Network) Isolate(addr string) {
	n.mu.Lock()
	n.blocked[link{addr, "*"}] = true
	n.blocked[link{"*", addr}] = true
	n.mu.Unlock()
}

// Partition splits the network: endpoints of different groups cannot talk.
// Endpoints in no group keep talking to everyone.
func (n *Network) Partition(groups ...[]string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for i, g := range groups {
		for j, h := range groups {
			if i == j {
				continue
			}
			for _, a := range g {
				for _, b := range h {
					n.blocked[link{a, b}] = true
				}
			}
		}
	}
}

// Heal removes every block, isolation and partition (faults stay).
func (n *Network) Heal() {
	n.mu.Lock()
	clear(n.blocked)
	n.mu.Unlock()
}

// Stats returns the counters so far.
func (n *Network) Stats() Stats {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.stats
}

// fate is what happens to one message.
type fate struct {
	deliver   bool
	blocked   bool
	duplicate bool
	reorder   bool
	delay     time.Duration
}

// decide draws the fate of one message on from -> to.
func (n *Network) decide(from, to string) fate {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.stats.Sent++
	if n.isBlocked(from, to) {
		n.stats.Blocked++
		return fate{blocked: true}
	}
	f, ok := n.linkFault[link{from, to}]
	if !ok {
		f = n.faults
	}
	if f.Drop > 0 && n.rng.Float64() < f.Drop {
		n.stats.Dropped++
		return fate{}
	}
	out := fate{deliver: true, delay: f.Delay}
	if f.Jitter > 0 {
		out.delay += time.Duration(n.rng.Int64N(int64(f.Jitter)))
	}
	if f.Duplicate > 0 && n.rng.Float64() < f.Duplicate {
		out.duplicate = true
		n.stats.Duplicated++
	}
	if f.Reorder > 0 && n.rng.Float64() < f.Reorder {
		out.reorder = true
		n.stats.Reordered++
	}
	return out
}

// reachable reports whether from can reach to right now, for snapshots.
func (n *Network) reachable(from, to string) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return !n.isBlocked(from, to)
}

// isBlocked is called with mu held. Isolate marks an endpoint with "*" on
// the other side of the link.
func (n *Network) isBlocked(from, to string) bool {
	return n.blocked[link{from, to}] || n.blocked[link{from, "*"}] || n.blocked[link{"*", to}]
}

func (n *Network) delivered(k uint64) {
	n.mu.Lock()
	n.stats.Delivered += k
	n.mu.Unlock()
}

func (n *Network) endpoint(addr string) *Transport {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.endpoints[addr]
}

func (n *Network) register(t *Transport) {
	n.mu.Lock()
	n.endpoints[t.addr] = t
	n.mu.Unlock()
}

func (n *Network) unregister(t *Transport) {
	n.mu.Lock()
	if n.endpoints[t.addr] == t {
		delete(n.endpoints, t.addr)
	}
	n.mu.Unlock()
}
