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
// Storage contracts (LogStore, StableStore, SnapshotStore) are in
// storage.go; in-memory implementations in memory.go. The package imports
// nothing of weed outside raft/.
package raft
