package wal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// replay rebuilds the in-memory log from the segments in name order.
func (w *WAL) replay(names []uint64) error {
	for k, name := range names {
		path := filepath.Join(w.dir, segmentFile(name))
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			return fmt.Errorf("wal: open segment: %w", err)
		}
		seg := &segment{name: name, path: path, f: f}
		w.segs = append(w.segs, seg)
		if err := w.replaySegment(seg, k == len(names)-1); err != nil {
			return err
		}
	}
	if err := w.mem.finish(); err != nil {
		path := w.dir
		if len(w.segs) > 0 {
			path = w.segs[0].path
		}
		return corruptAt(path, 0, err)
	}
	return nil
}

// replaySegment applies the records of one segment. A torn tail of the last
// segment is cut off; any other damage is an error naming file and offset.
func (w *WAL) replaySegment(seg *segment, last bool) error {
	st, err := seg.f.Stat()
	if err != nil {
		return fmt.Errorf("wal: %w", err)
	}
	data := make([]byte, st.Size())
	if _, err := seg.f.ReadAt(data, 0); err != nil {
		return fmt.Errorf("wal: read %s: %w", seg.path, err)
	}
	off := 0
	for off < len(data) {
		typ, payload, n, err := decodeRecord(data[off:])
		if err != nil {
			if last && isTornTail(data[off:], n, err) {
				return w.cutTail(seg, int64(off), int64(len(data)), err)
			}
			return corruptAt(seg.path, int64(off), err)
		}
		if err := w.applyRecord(seg, int64(off), typ, payload); err != nil {
			return corruptAt(seg.path, int64(off), err)
		}
		off += n
	}
	seg.size = int64(off)
	return nil
}

// isTornTail reports whether damage at the start of rest, the remaining
// bytes of the last segment, is an interrupted write rather than corruption:
// a record cut short, a bad record ending exactly at the end of the file, or
// a tail of zeros (a file extended without its data).
//
// A valid record after the damage proves it is not a torn write (a crash
// cuts the end of what was written), so a length field damaged to reach past
// the end of the file is reported rather than cut.
func isTornTail(rest []byte, n int, err error) bool {
	zeros := true
	for _, b := range rest {
		if b != 0 {
			zeros = false
			break
		}
	}
	switch {
	case zeros:
		return true
	case errors.Is(err, errShort), errors.Is(err, errChecksum) && n == len(rest):
		return !recordWithin(rest[1:])
	}
	return false
}

// recordWithin reports whether a record with a valid checksum starts
// anywhere in b.
func recordWithin(b []byte) bool {
	for p := 0; p+headerSize <= len(b); p++ {
		length := binary.LittleEndian.Uint32(b[p:])
		if length > maxPayload || int(length) > len(b)-p-headerSize {
			continue
		}
		if _, _, _, err := decodeRecord(b[p:]); err == nil {
			return true
		}
	}
	return false
}

func (w *WAL) cutTail(seg *segment, off, size int64, cause error) error {
	w.log.Warn("wal: cutting torn tail of the last segment",
		"file", seg.path, "offset", off, "bytes", size-off, "cause", cause.Error())
	if err := seg.f.Truncate(off); err != nil {
		return fmt.Errorf("wal: cut torn tail of %s: %w", seg.path, err)
	}
	if err := w.countedSync(seg.f); err != nil {
		return fmt.Errorf("wal: sync %s: %w", seg.path, err)
	}
	seg.size = off
	return nil
}

// applyRecord applies one decoded record to the in-memory state.
func (w *WAL) applyRecord(seg *segment, off int64, typ byte, payload []byte) error {
	switch typ {
	case recordEntry:
		e, err := decodeEntry(payload)
		if err != nil {
			return err
		}
		return w.mem.addEntry(e, loc{seg: seg, off: off, size: uint32(len(payload)), data: uint32(len(e.Data)), term: e.Term})
	case recordHardState:
		hs, err := decodeHardState(payload)
		if err != nil {
			return err
		}
		w.hs = hs
	case recordCompact:
		mk, err := decodeMark(payload)
		if err != nil {
			return err
		}
		w.mem.compact(mk)
	case recordReset:
		mk, err := decodeMark(payload)
		if err != nil {
			return err
		}
		w.mem.resetTo(mk)
	}
	return nil
}
