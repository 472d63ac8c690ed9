package raft

import (
	"errors"
	"io"

	"weedfs.dev/weed/raft/raftpb"
)

// Errors returned by storage implementations. Callers compare with errors.Is.
var (
	// ErrCompacted: the requested index was dropped by log compaction.
	ErrCompacted = errors.New("raft: requested index is compacted")
	// ErrUnavailable: the requested index is past the last entry.
	ErrUnavailable = errors.New("raft: requested entry is unavailable")
	// ErrCorrupt: stored bytes failed a checksum or could not be decoded.
	ErrCorrupt = errors.New("raft: corrupt storage")
	// ErrNoSnapshot: the snapshot store holds no snapshot.
	ErrNoSnapshot = errors.New("raft: no snapshot")
)

// LogReader is the read side of the log that the core consults to send
// entries to followers and to check terms. Implementations keep recent
// entries in memory; the core never writes through it.
type LogReader interface {
	// FirstIndex is the first index still stored (snapshot index + 1).
	FirstIndex() (uint64, error)
	// LastIndex is the index of the last stored entry (or the snapshot index
	// if the log is empty after it).
	LastIndex() (uint64, error)
	// Term of entry i, for FirstIndex()-1 <= i <= LastIndex(). Below that it
	// returns ErrCompacted, above it ErrUnavailable.
	Term(i uint64) (uint64, error)
	// Entries in [lo, hi), stopping early once maxBytes of entry data is
	// reached (always at least one entry when lo < hi).
	Entries(lo, hi, maxBytes uint64) ([]*raftpb.Entry, error)
}

// LogStore is durable log storage: a write-ahead log of entries.
type LogStore interface {
	LogReader
	// Append stores entries, which are consecutive. An entry whose index is
	// already stored replaces it and every entry after it. The entries are
	// durable (synced) when Append returns nil; concurrent callers may share
	// one sync.
	Append(entries []*raftpb.Entry) error
	// Compact drops every entry up to and including index, whose term is
	// term, after a snapshot at index has been saved. Term(index) keeps
	// answering term.
	Compact(index, term uint64) error
	// Reset drops the whole log and restarts it after a snapshot at
	// (index, term), as when a follower installs a leader's snapshot.
	Reset(index, term uint64) error
	Close() error
}

// StableStore persists the HardState (term, vote, commit). Save is durable
// when it returns nil: a vote is never sent before it is saved.
type StableStore interface {
	HardState() (*raftpb.HardState, error)
	SaveHardState(hs *raftpb.HardState) error
	Close() error
}

// SnapshotStore keeps application snapshots with their metadata.
type SnapshotStore interface {
	// Create starts a snapshot; the caller writes the application state to
	// the sink and closes it to make it durable and the latest, or cancels.
	Create(meta *raftpb.SnapshotMeta) (SnapshotSink, error)
	// Latest opens the newest complete snapshot, or returns ErrNoSnapshot.
	Latest() (*raftpb.SnapshotMeta, io.ReadCloser, error)
}

// SnapshotSink receives the bytes of one snapshot.
type SnapshotSink interface {
	io.Writer
	// Close completes the snapshot durably.
	Close() error
	// Cancel abandons it; nothing of it remains.
	Cancel() error
}
