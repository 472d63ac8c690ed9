package sim

import (
	"slices"

	"weedfs.dev/weed/raft/raftpb"
)

// envelope is a message in flight.
type envelope struct {
	at   int64  // delivery tick
	seq  uint64 // send order, to break ties deterministically
	m    *raftpb.Message
	data []byte // snapshot data travelling beside a MSG_SNAP
}

// network delivers messages after a random delay (so it reorders), loses
// and duplicates some, and drops those crossing a cut link.
type network struct {
	c        *Cluster
	inflight []envelope
	seq      uint64
	// cut[a][b]: a cannot reach b.
	cut      map[uint64]map[uint64]bool
	loss     float64
	dup      float64
	maxDelay int
}

func (n *network) blocked(from, to uint64) bool { return n.cut[from][to] }

// send queues m; it reports whether the message left (false: lost or cut),
// which is what a transport can tell its caller.
func (n *network) send(m *raftpb.Message, data []byte) bool {
	rng := n.c.rng
	if n.blocked(m.From, m.To) || rng.Float64() < n.loss {
		n.c.tracef("drop %s %d->%d", m.Type, m.From, m.To)
		return false
	}
	copies := 1
	if rng.Float64() < n.dup {
		copies = 2
	}
	for range copies {
		n.seq++
		n.inflight = append(n.inflight, envelope{at: n.c.now + 1 + int64(rng.Intn(n.maxDelay)), seq: n.seq, m: m, data: data})
	}
	return true
}

// due removes and returns the messages to deliver now, in (time, send)
// order.
func (n *network) due() []envelope {
	var out []envelope
	kept := n.inflight[:0]
	for _, e := range n.inflight {
		if e.at <= n.c.now {
			out = append(out, e)
		} else {
			kept = append(kept, e)
		}
	}
	n.inflight = kept
	slices.SortFunc(out, func(a, b envelope) int {
		if a.at != b.at {
			return int(a.at - b.at)
		}
		return int(a.seq) - int(b.seq)
	})
	return out
}

// partition cuts the links between the groups (each peer in one group).
func (n *network) partition(groups [][]uint64) {
	n.cut = map[uint64]map[uint64]bool{}
	for i, g := range groups {
		for j, h := range groups {
			if i == j {
				continue
			}
			for _, a := range g {
				for _, b := range h {
					if n.cut[a] == nil {
						n.cut[a] = map[uint64]bool{}
					}
					n.cut[a][b] = true
				}
			}
		}
	}
}

// cutOneWay makes a unable to reach b (but not the reverse).
func (n *network) cutOneWay(a, b uint64) {
	if n.cut[a] == nil {
		n.cut[a] = map[uint64]bool{}
	}
	n.cut[a][b] = true
}

func (n *network) heal() { n.cut = map[uint64]map[uint64]bool{} }
