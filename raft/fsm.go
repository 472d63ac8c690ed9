package raft

import (
	"io"

	"weedfs.dev/weed/raft/raftpb"
)

// FSM is the application's state machine, driven by the Raft node.
//
// The node calls it from one goroutine at a time, in log order: Apply for
// every committed ENTRY_NORMAL entry, exactly once per process lifetime
// after the latest Restore; Snapshot between two Applies; Restore when the
// node starts from a snapshot or installs one sent by the leader. The state
// lives in memory: after a restart the node restores the latest snapshot and
// applies the entries committed after it again.
type FSM interface {
	// Apply applies one committed command and returns the result that the
	// node hands to the Propose call that proposed it (on this peer).
	Apply(e *raftpb.Entry) any
	// Snapshot writes the state as of the last applied entry.
	Snapshot(w io.Writer) error
	// Restore replaces the whole state with a snapshot's.
	Restore(r io.Reader) error
}
