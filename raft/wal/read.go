package wal

import (
	"errors"
	"fmt"

	"google.golang.org/protobuf/proto"

	"weedfs.dev/weed/raft"
	"weedfs.dev/weed/raft/raftpb"
)

// maxReadSpan bounds one read of uncached entries.
const maxReadSpan = 4 << 20

// readable reports an error when the WAL is closed. A WAL that failed a
// write still answers reads of what it holds in memory.
func (w *WAL) readable() error {
	if errors.Is(w.err, ErrClosed) {
		return ErrClosed
	}
	return nil
}

// FirstIndex is the first index still stored.
func (w *WAL) FirstIndex() (uint64, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.readable(); err != nil {
		return 0, err
	}
	return w.mem.mark.index + 1, nil
}

// LastIndex is the index of the last stored entry, or the compaction point.
func (w *WAL) LastIndex() (uint64, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.readable(); err != nil {
		return 0, err
	}
	return w.mem.last(), nil
}

// Term returns the term of entry i, for FirstIndex()-1 <= i <= LastIndex().
func (w *WAL) Term(i uint64) (uint64, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.readable(); err != nil {
		return 0, err
	}
	if i < w.mem.mark.index {
		return 0, raft.ErrCompacted
	}
	t, ok := w.mem.term(i)
	if !ok {
		return 0, raft.ErrUnavailable
	}
	return t, nil
}

// Entries returns the entries in [lo, hi): at least one, then as many as
// keep the total of their Data within maxBytes (as raft.MemoryLogStore
// counts). The returned entries are shared: do not modify them.
func (w *WAL) Entries(lo, hi, maxBytes uint64) ([]*raftpb.Entry, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.readable(); err != nil {
		return nil, err
	}
	if lo <= w.mem.mark.index {
		return nil, raft.ErrCompacted
	}
	if hi > w.mem.last()+1 || lo > hi {
		return nil, fmt.Errorf("wal: entries [%d, %d), last is %d: %w", lo, hi, w.mem.last(), raft.ErrUnavailable)
	}
	// How many entries maxBytes allows: at least one.
	n := uint64(0)
	var total uint64
	for i := lo; i < hi; i++ {
		total += uint64(w.mem.locs[i-w.mem.first].data)
		if n > 0 && total > maxBytes {
			break
		}
		n++
	}
	out := make([]*raftpb.Entry, 0, n)
	for i := lo; i < lo+n; {
		if e := w.mem.cached(i); e != nil {
			out = append(out, e)
			i++
			continue
		}
		// A run of uncached entries of one segment, read with one ReadAt:
		// a follower catching up reads many small entries.
		first := w.mem.locs[i-w.mem.first]
		end := first.off + headerSize + int64(first.size)
		j := i + 1
		for ; j < lo+n && w.mem.cached(j) == nil; j++ {
			l := w.mem.locs[j-w.mem.first]
			e := l.off + headerSize + int64(l.size)
			if l.seg != first.seg || e-first.off > maxReadSpan {
				break
			}
			end = e
		}
		buf := make([]byte, end-first.off)
		if _, err := first.seg.f.ReadAt(buf, first.off); err != nil {
			return nil, fmt.Errorf("wal: read %s at %d: %w", first.seg.path, first.off, err)
		}
		for ; i < j; i++ {
			l := w.mem.locs[i-w.mem.first]
			e, err := decodeEntryRecord(buf[l.off-first.off:], l)
			if err != nil {
				return nil, err
			}
			out = append(out, e)
		}
	}
	return out, nil
}

// decodeEntryRecord decodes the entry record at the start of b, which l
// says is there.
func decodeEntryRecord(b []byte, l loc) (*raftpb.Entry, error) {
	typ, payload, _, err := decodeRecord(b[:headerSize+int(l.size)])
	if err == nil && typ != recordEntry {
		err = fmt.Errorf("record type %d where an entry was: %w", typ, raft.ErrCorrupt)
	}
	var e *raftpb.Entry
	if err == nil {
		e, err = decodeEntry(payload)
	}
	if err != nil {
		return nil, corruptAt(l.seg.path, l.off, err)
	}
	return e, nil
}

// corruptAt names the file and offset of damage; the error wraps
// raft.ErrCorrupt.
func corruptAt(path string, off int64, err error) error {
	if !errors.Is(err, raft.ErrCorrupt) {
		err = fmt.Errorf("%w: %w", err, raft.ErrCorrupt)
	}
	return fmt.Errorf("wal: %s at offset %d: %w", path, off, err)
}

// HardState returns the last saved HardState (empty if none).
func (w *WAL) HardState() (*raftpb.HardState, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.readable(); err != nil {
		return nil, err
	}
	return proto.CloneOf(w.hs), nil
}
