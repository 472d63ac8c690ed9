// Package bench compares weed's Raft library with hashicorp/raft on the
// same machine and workload: 3 nodes over loopback, fsynced logs, 64-byte
// commands from 1, 16 and 64 concurrent proposers, and the time from killing
// the leader to the next commit.
//
// It is a separate Go module so that the main module never depends on
// hashicorp/raft. Run it with `go test -bench . ./...` or
// `go run ./cmd/raftbench` from this directory.
package bench
