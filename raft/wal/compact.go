package wal

import (
	"fmt"
	"os"

	"weedfs.dev/weed/raft"
)

// Compact drops every entry up to and including index, whose term is term,
// after a snapshot at index was saved: a durable record first, then the
// segments that hold nothing above index are deleted. Term(index) keeps
// answering term, across restarts too.
func (w *WAL) Compact(index, term uint64) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	w.waitIdle()
	if index <= w.mem.mark.index {
		if index == w.mem.mark.index && term != w.mem.mark.term {
			return fmt.Errorf("wal: compact at %d with term %d, the compaction point has term %d", index, term, w.mem.mark.term)
		}
		return nil
	}
	if index > w.mem.last() {
		return fmt.Errorf("wal: compact at %d past the last entry %d: %w", index, w.mem.last(), raft.ErrUnavailable)
	}
	if t, _ := w.mem.term(index); t != term {
		return fmt.Errorf("wal: compact at %d with term %d, the entry has term %d", index, term, t)
	}
	// The first segment to keep holds entry index+1 (live entries are in
	// segment order), or is the current one.
	keep := w.segs[len(w.segs)-1]
	if index < w.mem.last() {
		keep = w.mem.locs[index+1-w.mem.first].seg
	}
	mk := mark{index, term}
	if err := w.writeRecord(recordCompact, encodeMark(mk)); err != nil {
		return err
	}
	if err := w.syncNow(); err != nil {
		return err
	}
	w.mem.compact(mk)
	return w.dropSegmentsBefore(keep)
}

// Reset drops the whole log and restarts it after a snapshot at (index,
// term), as when a follower installs a leader's snapshot. One durable record
// makes it atomic; older segments are deleted after it.
func (w *WAL) Reset(index, term uint64) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	w.waitIdle()
	if index < w.mem.mark.index {
		return fmt.Errorf("wal: reset to %d below the compaction point %d: %w", index, w.mem.mark.index, raft.ErrCompacted)
	}
	mk := mark{index, term}
	if err := w.writeRecord(recordReset, encodeMark(mk)); err != nil {
		return err
	}
	if err := w.syncNow(); err != nil {
		return err
	}
	w.mem.resetTo(mk)
	return w.dropSegmentsBefore(w.segs[len(w.segs)-1])
}

// writeRecord appends one record to the current segment, with mu held.
func (w *WAL) writeRecord(typ byte, payload []byte) error {
	cur := w.segs[len(w.segs)-1]
	rec := appendRecord(nil, typ, payload)
	if _, err := cur.f.WriteAt(rec, cur.size); err != nil {
		w.err = fmt.Errorf("wal: write %s: %w", cur.path, err)
		return w.err
	}
	cur.size += int64(len(rec))
	w.written++
	w.stats.Writes++
	return nil
}

// dropSegmentsBefore deletes, oldest first, the segments written before
// keep. Oldest first: a crash in between leaves a suffix of the segments,
// which replays to the same log because the record that made them useless
// is in a later segment.
func (w *WAL) dropSegmentsBefore(keep *segment) error {
	n := 0
	for n < len(w.segs) && w.segs[n] != keep {
		n++
	}
	if n == 0 || n == len(w.segs) {
		return nil
	}
	for _, s := range w.segs[:n] {
		s.f.Close()
		if err := os.Remove(s.path); err != nil {
			w.err = fmt.Errorf("wal: remove %s: %w", s.path, err)
			return w.err
		}
		w.segs = w.segs[1:]
	}
	return syncDir(w.dir)
}
