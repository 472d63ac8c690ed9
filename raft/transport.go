package raft

import (
	"context"
	"io"

	"weedfs.dev/weed/raft/raftpb"
)

// Transport carries messages between the peers of one cluster. The driver
// (Raft) is its only user: it sets the inbound Handler once, before any
// message flows, sends the core's outbound messages with Send and streams
// snapshots with SendSnapshot. raft/httptransport is the network
// implementation; raft/memtransport is an in-memory one with fault injection
// for tests.
//
// A transport learns the address of a peer that sends to it before being
// added (AddPeer): a new member must be able to answer the leader before it
// has applied the configuration that names the leader.
//
// Raft tolerates lost, duplicated and reordered messages, so a transport
// never retries a message and never blocks the driver: it drops what it
// cannot deliver and says so through Handler.ReportUnreachable.
type Transport interface {
	// SetHandler registers the receiver of inbound messages. It is called
	// once, before AddPeer or Send.
	SetHandler(h Handler)
	// Send queues messages for their peers (Message.To) and returns at once.
	// A message that cannot be queued (unknown peer, the peer's queue is
	// full, its connection is down) is dropped, and ReportUnreachable is
	// called for that peer, possibly from inside Send.
	Send(msgs []*raftpb.Message)
	// SendSnapshot streams a MSG_SNAP and the snapshot's bytes to m.To. It
	// returns nil once the peer's Handler.ReceiveSnapshot accepted them, an
	// error otherwise. It blocks for the duration of the transfer.
	SendSnapshot(ctx context.Context, m *raftpb.Message, data io.Reader) error
	// AddPeer makes peer id reachable at addr (replacing an earlier address).
	AddPeer(id uint64, addr string)
	// RemovePeer forgets peer id and drops what is queued for it.
	RemovePeer(id uint64)
	// Close stops every goroutine of the transport. Send after Close drops.
	Close() error
}

// Handler is the inbound side of a Transport, implemented by the driver.
type Handler interface {
	// Receive delivers one peer message. It may block while the driver is
	// busy (back-pressure on the sending peer) and returns promptly once the
	// driver is closed.
	Receive(m *raftpb.Message)
	// ReceiveSnapshot delivers a MSG_SNAP with the snapshot's bytes. It
	// returns once the bytes are stored durably (nil) or rejected.
	ReceiveSnapshot(ctx context.Context, m *raftpb.Message, data io.Reader) error
	// ReportUnreachable says that a message to peer id was dropped. It never
	// blocks.
	ReportUnreachable(id uint64)
}
