package raft

import (
	"errors"
	"fmt"

	"weedfs.dev/weed/raft/raftpb"
)

// raftLog is the core's view of the log: what the driver persisted (storage)
// followed by entries not yet persisted (unstable), plus a leader's snapshot
// not yet installed.
type raftLog struct {
	storage LogReader
	// unstable[i].Index == offset+i. Entries at offset and above in storage
	// are superseded by unstable (they are being replaced).
	unstable []*raftpb.Entry
	offset   uint64
	// snapshot: a snapshot accepted from the leader, not yet installed by the
	// driver. While set, the log starts after it.
	snapshot *raftpb.SnapshotMeta

	// Invariant: applied <= applying <= committed <= lastIndex().
	committed uint64
	// applying: the last entry handed out in a Ready; applied: the last the
	// driver reported applied through Advance.
	applying, applied uint64
}

func newRaftLog(storage LogReader) (*raftLog, error) {
	last, err := storage.LastIndex()
	if err != nil {
		return nil, fmt.Errorf("raft: read last index: %w", err)
	}
	return &raftLog{storage: storage, offset: last + 1}, nil
}

func (l *raftLog) firstIndex() (uint64, error) {
	if l.snapshot != nil {
		return l.snapshot.Index + 1, nil
	}
	return l.storage.FirstIndex()
}

// lastIndex needs no storage call: storage holds exactly the entries below
// offset (the driver persists every Ready before Advance).
func (l *raftLog) lastIndex() uint64 {
	return l.offset + uint64(len(l.unstable)) - 1
}

func (l *raftLog) term(i uint64) (uint64, error) {
	if i >= l.offset {
		if i-l.offset < uint64(len(l.unstable)) {
			return l.unstable[i-l.offset].Term, nil
		}
		return 0, ErrUnavailable
	}
	if s := l.snapshot; s != nil {
		if i == s.Index {
			return s.Term, nil
		}
		return 0, ErrCompacted
	}
	return l.storage.Term(i)
}

func (l *raftLog) lastTerm() (uint64, error) {
	return l.term(l.lastIndex())
}

func (l *raftLog) matchTerm(i, term uint64) bool {
	t, err := l.term(i)
	return err == nil && t == term
}

// isUpToDate: a candidate's log (lastIndex, lastTerm) is at least as up to
// date as ours, comparing (term, index) lexicographically.
func (l *raftLog) isUpToDate(lastIndex, lastTerm uint64) (bool, error) {
	ourTerm, err := l.lastTerm()
	if err != nil {
		return false, err
	}
	return lastTerm > ourTerm || (lastTerm == ourTerm && lastIndex >= l.lastIndex()), nil
}

// entries returns [lo, hi) limited to maxBytes of data (0: unlimited).
func (l *raftLog) entries(lo, hi, maxBytes uint64) ([]*raftpb.Entry, error) {
	if lo >= hi {
		return nil, nil
	}
	if hi > l.lastIndex()+1 {
		return nil, ErrUnavailable
	}
	if maxBytes == 0 {
		maxBytes = ^uint64(0)
	}
	var out []*raftpb.Entry
	if lo < l.offset {
		if l.snapshot != nil {
			return nil, ErrCompacted
		}
		ents, err := l.storage.Entries(lo, min(hi, l.offset), maxBytes)
		if err != nil {
			return nil, err
		}
		if len(ents) == 0 || ents[0].Index != lo {
			return nil, fmt.Errorf("raft: storage returned entries not starting at %d: %w", lo, ErrCorrupt)
		}
		if uint64(len(ents)) < min(hi, l.offset)-lo {
			return ents, nil // size limit reached
		}
		out = ents
	}
	if hi > l.offset {
		from := max(lo, l.offset)
		src := l.unstable[from-l.offset : hi-l.offset]
		size := uint64(0)
		for _, e := range out {
			size += uint64(len(e.Data))
		}
		for _, e := range src {
			size += uint64(len(e.Data))
			if len(out) > 0 && size > maxBytes {
				break
			}
			out = append(out, e)
		}
	}
	return out, nil
}

// append adds entries, replacing any entry at or after the first one's
// index. Callers make sure they never replace committed entries.
func (l *raftLog) append(ents ...*raftpb.Entry) {
	if len(ents) == 0 {
		return
	}
	after := ents[0].Index
	switch {
	case after == l.offset+uint64(len(l.unstable)):
		l.unstable = append(l.unstable, ents...)
	case after <= l.offset:
		// Replace everything unstable; storage's suffix from after on is
		// replaced when the driver appends.
		l.offset = after
		l.unstable = append([]*raftpb.Entry(nil), ents...)
	default:
		kept := l.unstable[:after-l.offset]
		l.unstable = append(append([]*raftpb.Entry(nil), kept...), ents...)
	}
}

// findConflict returns the index of the first entry of ents that is not in
// the log (different term, or past the end), or 0 if all are there.
func (l *raftLog) findConflict(ents []*raftpb.Entry) uint64 {
	for _, e := range ents {
		if !l.matchTerm(e.Index, e.Term) {
			return e.Index
		}
	}
	return 0
}

// findConflictByTerm returns the largest index <= index whose term is <=
// term, with that term: the leader (or follower) can skip every entry of a
// term the other side cannot have. It stops at the compaction boundary.
func (l *raftLog) findConflictByTerm(index, term uint64) (uint64, uint64) {
	for ; index > 0; index-- {
		t, err := l.term(index)
		if err != nil {
			return index, 0
		}
		if t <= term {
			return index, t
		}
	}
	return 0, 0
}

// maybeAppend appends a leader's entries after (index, logTerm) if the log
// has that entry, and commits up to min(committed, last new index).
func (l *raftLog) maybeAppend(index, logTerm, committed uint64, ents []*raftpb.Entry) (uint64, bool, error) {
	if !l.matchTerm(index, logTerm) {
		return 0, false, nil
	}
	lastNew := index + uint64(len(ents))
	if ci := l.findConflict(ents); ci != 0 {
		if ci <= l.committed {
			return 0, false, fmt.Errorf("raft: entry %d conflicts with committed entry: %w", ci, ErrStepMalformed)
		}
		l.append(ents[ci-index-1:]...)
	}
	l.commitTo(min(committed, lastNew))
	return lastNew, true, nil
}

func (l *raftLog) commitTo(i uint64) {
	if i > l.committed && i <= l.lastIndex() {
		l.committed = i
	}
}

// maybeCommit commits up to i if entry i is of term: the leader commits
// only entries of its own term by counting (Raft paper, figure 8).
func (l *raftLog) maybeCommit(i, term uint64) bool {
	if i > l.committed && i <= l.lastIndex() && l.matchTerm(i, term) {
		l.committed = i
		return true
	}
	return false
}

// restore replaces the log by a leader's snapshot.
func (l *raftLog) restore(s *raftpb.SnapshotMeta) {
	l.snapshot = s
	l.unstable = nil
	l.offset = s.Index + 1
	l.committed = s.Index
	l.applying = max(l.applying, s.Index)
}

// stableTo records that the driver persisted the entries up to (i, term).
func (l *raftLog) stableTo(i, term uint64) {
	if i < l.offset || i-l.offset >= uint64(len(l.unstable)) || l.unstable[i-l.offset].Term != term {
		return // replaced meanwhile
	}
	n := i + 1 - l.offset
	l.unstable = append([]*raftpb.Entry(nil), l.unstable[n:]...)
	l.offset = i + 1
}

func (l *raftLog) stableSnapTo(i uint64) {
	if l.snapshot != nil && l.snapshot.Index == i {
		l.snapshot = nil
	}
	l.applied = max(l.applied, i)
	l.applying = max(l.applying, i)
}

func (l *raftLog) hasNextCommitted() bool {
	return l.applying < l.committed
}

// nextCommitted returns the committed entries not yet handed out.
func (l *raftLog) nextCommitted() ([]*raftpb.Entry, error) {
	if !l.hasNextCommitted() {
		return nil, nil
	}
	ents, err := l.entries(l.applying+1, l.committed+1, 0)
	if errors.Is(err, ErrCompacted) {
		return nil, fmt.Errorf("raft: committed entries after %d were compacted before being applied: %w", l.applying, err)
	}
	return ents, err
}
