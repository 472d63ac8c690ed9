package sim

import (
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/anishathalye/porcupine"
)

const (
	opTimeout = 50 // ticks before a client retries
	keys      = "xyz"
)

// client submits one operation at a time to whoever it believes leads and
// retries until it completes. Writes carry (client, seq) so a retry applies
// once; reads go through ReadIndex.
type client struct {
	id      uint64
	seq     uint64
	target  uint64
	pending *pendingOp
	// postHeal: operations completed after the network healed.
	postHeal int
}

type pendingOp struct {
	seq      uint64
	in       kvInput
	call     int64 // porcupine clock
	attempt  uint64
	deadline int64 // sim tick of the next attempt
	postHeal bool
	timedOut bool // the deadline is a timeout (not a quick retry)
}

// op is a completed operation, as porcupine sees it.
type op struct {
	client    uint64
	in        kvInput
	out       kvOutput
	call, ret int64
}

func (c *Cluster) clientsAct() {
	for _, cl := range c.clients {
		if cl.pending == nil {
			if c.chaos && c.rng.Float64() < 0.2 || !c.chaos && cl.postHeal == 0 {
				c.newOp(cl)
			}
			continue
		}
		if c.now >= cl.pending.deadline {
			if cl.pending.timedOut {
				// No answer: perhaps a removed or partitioned peer; try
				// a member of the current configuration.
				if ids := memberIDs(c.conf); len(ids) > 0 {
					cl.target = ids[c.rng.Intn(len(ids))]
				}
			}
			c.submit(cl)
		}
	}
}

func (c *Cluster) newOp(cl *client) {
	cl.seq++
	in := kvInput{kind: opKind(c.rng.Intn(3)), key: string(keys[c.rng.Intn(len(keys))])}
	if in.kind != opGet {
		in.value = fmt.Sprintf("<%d.%d>", cl.id, cl.seq)
	}
	c.clock++
	cl.pending = &pendingOp{seq: cl.seq, in: in, call: c.clock, postHeal: !c.chaos}
	c.tracef("client %d call %d %s %s %s", cl.id, cl.seq, in.kind, in.key, in.value)
	c.submit(cl)
}

func (c *Cluster) submit(cl *client) {
	p := cl.pending
	p.attempt++
	n := c.node(cl.target)
	if n == nil || !n.up() {
		n = c.nodes[c.rng.Intn(len(c.nodes))]
		if !n.up() {
			p.deadline = c.now + 1
			p.timedOut = false
			return
		}
	}
	var err error
	if p.in.kind == opGet {
		if c.bug == BugStaleRead {
			c.finish(cl, kvOutput{value: n.kv.data[p.in.key]})
			return
		}
		err = n.core.ReadIndex(readContext(cl.id, p.seq))
	} else {
		cmd := command{kind: p.in.kind, client: cl.id, seq: p.seq, key: p.in.key, value: p.in.value}
		_, _, err = n.core.Propose(cmd.encode())
	}
	if err != nil {
		// Try the leader this peer knows of, or anyone, next tick.
		_, lead, _, _ := n.core.Basic()
		c.tracef("client %d attempt %d of %d at %d: %v (leader %d)", cl.id, p.attempt, p.seq, n.id, err, lead)
		if lead == 0 || lead == n.id {
			lead = c.nodes[c.rng.Intn(len(c.nodes))].id
		}
		cl.target = lead
		p.deadline = c.now + 1
		p.timedOut = false
		return
	}
	c.tracef("client %d attempt %d of %d at %d", cl.id, p.attempt, p.seq, n.id)
	cl.target = n.id
	p.deadline = c.now + opTimeout
	p.timedOut = true
}

func readContext(client, seq uint64) []byte {
	return binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(nil, client), seq)
}

func (c *Cluster) finish(cl *client, out kvOutput) {
	p := cl.pending
	c.clock++
	c.history = append(c.history, op{client: cl.id, in: p.in, out: out, call: p.call, ret: c.clock})
	c.tracef("client %d done %d %s %s -> %q", cl.id, p.seq, p.in.kind, p.in.key, shortValue(out.value))
	if p.postHeal {
		cl.postHeal++
	}
	cl.pending = nil
	c.res.Ops++
}

// clientWriteDone: a write is complete once any peer applies it.
func (c *Cluster) clientWriteDone(cmd command) {
	for _, cl := range c.clients {
		if cl.id == cmd.client && cl.pending != nil && cl.pending.seq == cmd.seq && cl.pending.in.kind != opGet {
			c.finish(cl, kvOutput{})
		}
	}
}

// clientReadDone: peer n reached the read index of a read.
func (c *Cluster) clientReadDone(n *node, rctx []byte) {
	if len(rctx) != 16 {
		return
	}
	id, seq := binary.BigEndian.Uint64(rctx), binary.BigEndian.Uint64(rctx[8:])
	for _, cl := range c.clients {
		if cl.id == id && cl.pending != nil && cl.pending.seq == seq && cl.pending.in.kind == opGet {
			c.finish(cl, kvOutput{value: n.kv.data[cl.pending.in.key]})
		}
	}
}

// allSettled: every client finished an operation issued after the heal,
// and none is pending.
func (c *Cluster) allSettled(int64) bool {
	for _, cl := range c.clients {
		if cl.pending != nil || cl.postHeal == 0 {
			return false
		}
	}
	return true
}

func (c *Cluster) checkLinearizable() error {
	ops := make([]porcupine.Operation, len(c.history))
	for i, o := range c.history {
		ops[i] = porcupine.Operation{ClientId: int(o.client - 1), Input: o.in, Output: o.out, Call: o.call, Return: o.ret}
	}
	if porcupine.CheckOperations(kvModel(), ops) {
		return nil
	}
	var b strings.Builder
	for _, o := range c.history {
		fmt.Fprintf(&b, "\n  [%d,%d] client %d %s", o.call, o.ret, o.client, kvModel().DescribeOperation(o.in, o.out))
	}
	return fmt.Errorf("%w:%s", errNotLinearizable, b.String())
}
