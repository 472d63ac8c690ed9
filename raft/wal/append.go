package wal

import (
	"fmt"

	"google.golang.org/protobuf/proto"

	"weedfs.dev/weed/raft"
	"weedfs.dev/weed/raft/raftpb"
)

// batch is records framed outside the lock: entries, then an optional
// HardState record.
type batch struct {
	buf  []byte
	ents []*raftpb.Entry
	offs []int // offs[i]: start of entry i's record in buf; offs[len(ents)] = end of entries
	hs   *raftpb.HardState
}

func encodeBatch(ents []*raftpb.Entry, hs *raftpb.HardState) (*batch, error) {
	b := &batch{ents: ents, offs: make([]int, 0, len(ents)+1)}
	for i, e := range ents {
		if i > 0 && e.Index != ents[i-1].Index+1 {
			return nil, fmt.Errorf("wal: append of entries %d then %d: not consecutive", ents[i-1].Index, e.Index)
		}
		b.offs = append(b.offs, len(b.buf))
		// Frame in place: reserve the header, marshal after it, then fill it.
		start := len(b.buf)
		b.buf = append(b.buf, make([]byte, headerSize)...)
		var err error
		if b.buf, err = (proto.MarshalOptions{}).MarshalAppend(b.buf, e); err != nil {
			return nil, fmt.Errorf("wal: encode entry %d: %w", e.Index, err)
		}
		frame(b.buf[start:], recordEntry)
	}
	b.offs = append(b.offs, len(b.buf))
	if hs != nil {
		p, err := proto.Marshal(hs)
		if err != nil {
			return nil, fmt.Errorf("wal: encode hard state: %w", err)
		}
		b.buf = appendRecord(b.buf, recordHardState, p)
		b.hs = proto.CloneOf(hs)
	}
	return b, nil
}

// Append stores entries durably; an entry whose index is already stored with
// another term replaces it and every entry after it. Entries at or below the
// compaction point are skipped (they are committed, so they match). The
// WAL keeps the entries given: do not modify them afterwards.
func (w *WAL) Append(ents []*raftpb.Entry) error {
	return w.Save(nil, ents)
}

// SaveHardState stores hs durably.
func (w *WAL) SaveHardState(hs *raftpb.HardState) error {
	if hs == nil {
		return nil
	}
	return w.Save(hs, nil)
}

// Save stores entries and, if hs is not nil, the HardState, with one fsync:
// what a driver does for one Ready.
func (w *WAL) Save(hs *raftpb.HardState, ents []*raftpb.Entry) error {
	b, err := encodeBatch(ents, hs)
	if err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	seq, err := w.write(b)
	if err != nil {
		return err
	}
	return w.waitDurable(seq)
}

// write puts a batch in the current segment and the in-memory log, with mu
// held, and returns the batch's number for waitDurable.
func (w *WAL) write(b *batch) (uint64, error) {
	if w.err != nil {
		return 0, w.err
	}
	k := 0 // first entry of b to write
	for k < len(b.ents) && b.ents[k].Index <= w.mem.mark.index {
		k++
	}
	if k < len(b.ents) && b.ents[k].Index > w.mem.last()+1 {
		return 0, fmt.Errorf("wal: append at %d would leave a gap after %d: %w", b.ents[k].Index, w.mem.last(), raft.ErrUnavailable)
	}
	// Entries already held with the same term are the same entries: skip
	// them, so only a real conflict truncates.
	for k < len(b.ents) {
		t, ok := w.mem.term(b.ents[k].Index)
		if !ok || t != b.ents[k].Term {
			break
		}
		k++
	}
	data := b.buf[b.offs[k]:]
	if len(data) == 0 {
		return w.written, nil // nothing new; wait for what is already written
	}
	cur := w.segs[len(w.segs)-1]
	if k < len(b.ents) {
		next := b.ents[k].Index
		if next == w.mem.last()+1 && cur.size >= w.segmentSize {
			if err := w.roll(next); err != nil {
				return 0, err
			}
			cur = w.segs[len(w.segs)-1]
		}
	}
	base := cur.size
	if _, err := cur.f.WriteAt(data, base); err != nil {
		w.err = fmt.Errorf("wal: write %s: %w", cur.path, err)
		return 0, w.err
	}
	cur.size += int64(len(data))
	for i := k; i < len(b.ents); i++ {
		off := base + int64(b.offs[i]-b.offs[k])
		size := b.offs[i+1] - b.offs[i] - headerSize
		l := loc{seg: cur, off: off, size: uint32(size), data: uint32(len(b.ents[i].Data)), term: b.ents[i].Term}
		if err := w.mem.addEntry(b.ents[i], l); err != nil {
			// Checked above; reaching here is a bug, and the file now
			// disagrees with memory: stop writing.
			w.err = fmt.Errorf("wal: in-memory log refused entry: %w", err)
			return 0, w.err
		}
	}
	if b.hs != nil {
		w.hs = b.hs
	}
	w.written++
	w.stats.Writes++
	return w.written, nil
}

// waitDurable returns, with mu held, once batch seq is synced. One waiter
// at a time fsyncs outside mu; batches written meanwhile share the next one.
func (w *WAL) waitDurable(seq uint64) error {
	for w.synced < seq {
		if w.err != nil {
			return w.err
		}
		if w.syncing {
			w.cond.Wait()
			continue
		}
		w.syncing = true
		target := w.written
		cur := w.segs[len(w.segs)-1]
		w.stats.Syncs++
		w.mu.Unlock()
		err := w.syncFile(cur.f)
		w.mu.Lock()
		w.syncing = false
		if err != nil {
			w.err = fmt.Errorf("wal: sync %s: %w", cur.path, err)
		} else if target > w.synced {
			w.synced = target
		}
		w.cond.Broadcast()
	}
	return nil
}

// syncNow fsyncs the current segment with mu held, covering every batch
// written so far.
func (w *WAL) syncNow() error {
	cur := w.segs[len(w.segs)-1]
	if err := w.countedSync(cur.f); err != nil {
		w.err = fmt.Errorf("wal: sync %s: %w", cur.path, err)
		return w.err
	}
	w.synced = w.written
	return nil
}

// roll seals the current segment and starts a new one for entry next. Its
// name is next, or one more than the current name if a truncation or reset
// went below it, so names keep the write order.
func (w *WAL) roll(next uint64) error {
	if err := w.syncNow(); err != nil {
		return err
	}
	name := max(next, w.segs[len(w.segs)-1].name+1)
	seg, err := createSegment(w.dir, name, w.header(), w.countedSync)
	if err != nil {
		w.err = err
		return err
	}
	w.segs = append(w.segs, seg)
	return nil
}
