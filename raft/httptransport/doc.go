// Package httptransport is the network raft.Transport: peers exchange
// protobuf messages over persistent HTTP/1.1 connections, so a master serves
// Raft on its own HTTP port under a prefix (DefaultPathPrefix, "/raft/").
//
// It owns the wire protocol between peers and nothing else: it never looks
// inside a message beyond the fields that route it (cluster_id, to, type),
// never retries (Raft tolerates loss) and never blocks the driver: each peer
// has a bounded queue drained by one goroutine, and what cannot be queued is
// dropped and reported as unreachable.
//
// # Requests
//
// Both requests are POSTs whose body is a sequence of frames, sent with
// chunked transfer encoding, and whose success answer is 204 No Content.
// Malformed bodies get 400 and a JSON {"error": "..."} body; the server goes on
// serving other requests.
//
//	POST <prefix>stream     frames of raftpb.Message, one long-lived request per
//	                        peer pair, written as messages are queued (pipelined)
//	POST <prefix>snapshot   frames of raftpb.SnapshotChunk: the first carries the
//	                        MSG_SNAP, data follows in order, the last has last=true
//
// Headers on both: HeaderClusterID (decimal cluster id; a mismatch is
// answered 400 before the body is read), HeaderFrom (the sender's id) and,
// when configured, HeaderFromAddr (the sender's address: a receiver that does
// not know the sender yet adds it as a peer, so a new member can answer).
// Every message is also checked: its cluster_id must match and its to must be
// this peer's id.
//
// # Frame
//
//	offset  size  field
//	0       4     N: length of the payload, big-endian uint32, N <= MaxFrameSize
//	4       N     the protobuf encoding of one raftpb.Message or raftpb.SnapshotChunk
//
// A body ends cleanly only at a frame boundary: a torn frame is an error.
package httptransport
