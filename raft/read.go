package raft

import "encoding/binary"

// readRequest is a ReadIndex the leader is confirming: it may be answered
// with index once a quorum has acknowledged a heartbeat sent after it.
type readRequest struct {
	seq   uint64
	index uint64 // the leader's commit index when the request arrived
	from  uint64 // the leader itself, or the follower that forwarded it
	ctx   []byte
	acks  map[uint64]bool
}

// readQueue holds the leader's unconfirmed reads in arrival order. Heartbeats
// carry the sequence number of the newest request; an ack of seq confirms
// every request up to seq.
type readQueue struct {
	seq     uint64 // never reset, so acks from an older term never match
	pending []*readRequest
}

func (q *readQueue) add(index, from uint64, ctx []byte, self uint64) *readRequest {
	q.seq++
	r := &readRequest{seq: q.seq, index: index, from: from, ctx: ctx, acks: map[uint64]bool{self: true}}
	q.pending = append(q.pending, r)
	return r
}

// lastContext is the heartbeat context to send: the newest request's seq.
func (q *readQueue) lastContext() []byte {
	if len(q.pending) == 0 {
		return nil
	}
	return encodeReadSeq(q.pending[len(q.pending)-1].seq)
}

// ack records that peer acknowledged a heartbeat with context ctx and
// returns the requests now confirmed by quorum, oldest first.
func (q *readQueue) ack(peer uint64, ctx []byte, quorum jointQuorum) []*readRequest {
	seq, ok := decodeReadSeq(ctx)
	if !ok {
		return nil
	}
	for _, r := range q.pending {
		if r.seq > seq {
			break
		}
		r.acks[peer] = true
	}
	n := 0
	for n < len(q.pending) && quorum.result(q.pending[n].acks) == voteWon {
		n++
	}
	done := q.pending[:n:n]
	q.pending = q.pending[n:]
	return done
}

func (q *readQueue) reset() { q.pending = nil }

func encodeReadSeq(seq uint64) []byte {
	return binary.BigEndian.AppendUint64(nil, seq)
}

func decodeReadSeq(b []byte) (uint64, bool) {
	if len(b) != 8 {
		return 0, false
	}
	return binary.BigEndian.Uint64(b), true
}
