// Package raft is weed's Raft consensus library: a deterministic core and a
// driver around it.
//
// The core (Core, files core*.go, log*.go, progress*.go, quorum*.go,
// confchange*.go, read*.go) is a pure state machine in the style of
// etcd-io/raft: time arrives as Tick, messages as Step, and everything the
// core wants done leaves as a Ready (entries and HardState to persist,
// messages to send, committed entries to apply, read states to serve). The
// core never touches clocks, goroutines, sockets or files, so the
// simulation in raft/sim can run thousands of seeded schedules of
// partitions and crashes and replay any one exactly.
//
// It implements leader election with randomized timeouts, PreVote and
// CheckQuorum (with leader stickiness), pipelined log replication with fast
// conflict backtracking, snapshots for followers behind the log's first
// index, membership changes one at a time or several at once through joint
// consensus, learners, leadership transfer, and linearizable reads through
// ReadIndex (optionally lease-based).
//
// Configuration changes take effect when applied (as in etcd), which is
// safe under three invariants the core keeps: a leader proposes a change
// only once the previous one is applied; a peer campaigns only once it has
// applied every committed change; a follower appends a change only once the
// commit index covering the previous one is durable.
//
// Storage contracts (LogStore, StableStore, SnapshotStore) are in
// storage.go; in-memory implementations in memory.go. The package imports
// nothing of weed outside raft/.
package raft
