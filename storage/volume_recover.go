package storage

import (
	"encoding/binary"
	"errors"
	"fmt"

	"weedfs.dev/weed/storage/idx"
	"weedfs.dev/weed/storage/needle"
	"weedfs.dev/weed/storage/needlemap"
	"weedfs.dev/weed/storage/vfs"
)

// recover brings .idx and .dat back to a consistent state after a crash and
// loads the needle map. It reports whether it changed either file. The
// volume is not yet shared, so no lock is held.
func (v *Volume) recover() (repaired bool, err error) {
	datLen, err := fileSize(v.dat)
	if err != nil {
		return false, err
	}
	idxLen, err := fileSize(v.idx)
	if err != nil {
		return false, err
	}
	start := int64(v.sb.Len())
	if datLen < start {
		return false, fmt.Errorf("%w: data file of %d bytes is shorter than its super block (%d)", ErrCorrupt, datLen, start)
	}

	// 1. A torn last entry of the .idx.
	if rem := idxLen % idx.EntrySize; rem != 0 {
		v.logger.Warn("cutting a torn index entry", "bytes", rem, "at", idxLen-rem)
		idxLen -= rem
		if err := v.idx.Truncate(idxLen); err != nil {
			return false, err
		}
		repaired = true
	}

	// 2. Index entries, newest first, whose record is not whole in .dat.
	end, kept, err := v.checkIndexTail(idxLen, datLen, start)
	if err != nil {
		return false, err
	}
	if kept < idxLen {
		v.logger.Warn("dropping index entries whose records are missing or corrupt",
			"entries", (idxLen-kept)/idx.EntrySize, "at", kept)
		idxLen = kept
		if err := v.idx.Truncate(idxLen); err != nil {
			return false, err
		}
		repaired = true
	}

	// 3. The map, from the whole, checked entries.
	nm, whole, err := needlemap.LoadAt(v.idx, idxLen)
	if err != nil {
		return false, fmt.Errorf("load index: %w", err)
	}
	if whole != idxLen {
		return false, fmt.Errorf("%w: index loaded %d of %d bytes", ErrCorrupt, whole, idxLen)
	}
	v.nm, v.idxSize = nm, idxLen

	// 4. Records in .dat after the last indexed one.
	goodEnd, added, err := v.recoverTail(end, datLen)
	if err != nil {
		return false, err
	}
	if added > 0 {
		v.logger.Warn("indexed records the index had missed", "records", added, "from", end)
		repaired = true
	}
	if goodEnd < datLen {
		v.logger.Warn("cutting a torn or corrupt data file tail", "bytes", datLen-goodEnd, "at", goodEnd)
		if err := v.dat.Truncate(goodEnd); err != nil {
			return false, err
		}
		repaired = true
	}
	v.datSize = goodEnd
	return repaired, nil
}

// checkIndexTail walks the .idx backwards from idxLen until it finds an
// entry whose record is whole and valid in .dat. It returns the end of that
// record in .dat (where scanning for unindexed records starts) and the .idx
// length to keep. Entries before the first valid one are trusted: records
// and entries are appended in order, so a crash only tears the end.
func (v *Volume) checkIndexTail(idxLen, datLen, start int64) (end, keep int64, err error) {
	var b [idx.EntrySize]byte
	keep = idxLen
	for pos := idxLen; pos > 0; pos -= idx.EntrySize {
		if _, err := v.idx.ReadAt(b[:], pos-idx.EntrySize); err != nil {
			return 0, 0, fmt.Errorf("read index entry at %d: %w", pos-idx.EntrySize, err)
		}
		e, err := idx.Decode(b[:])
		if err != nil {
			return 0, 0, corrupt(err)
		}
		if e.Offset == 0 {
			// A delete without a tombstone record (older SeaweedFS writes
			// these; the map treats offset 0 as a delete): it tells
			// nothing about .dat, so keep it and look further back.
			continue
		}
		if recEnd, ok := v.checkRecord(e, datLen, start); ok {
			return recEnd, keep, nil
		}
		keep = pos - idx.EntrySize
	}
	return start, keep, nil
}

// checkRecord reports whether the record e points at lies whole inside
// .dat, belongs to e's key, has the size e says and passes its checksum,
// and returns where it ends. It also raises lastAppendAtNs.
func (v *Volume) checkRecord(e idx.Entry, datLen, start int64) (end int64, ok bool) {
	off := e.ActualOffset()
	size := entryRecordSize(e)
	n := needle.RecordLen(size, v.sb.Version)
	if off < start || off%idx.OffsetUnit != 0 || off+n > datLen {
		return 0, false
	}
	buf := make([]byte, n)
	if err := readFull(v.dat, buf, off); err != nil {
		return 0, false
	}
	rec, err := needle.Decode(buf, v.sb.Version)
	if err != nil || rec.ID != e.Key || rec.Size != size {
		return 0, false
	}
	v.lastAppendAtNs = max(v.lastAppendAtNs, rec.AppendAtNs)
	return off + n, true
}

// recoverTail scans .dat from start to datLen, indexing every whole record
// it finds (appending to .idx and the map). It returns where the whole
// records end and how many it indexed.
func (v *Volume) recoverTail(start, datLen int64) (end int64, added int, err error) {
	sc := needle.NewScanner(v.dat, start, datLen, v.sb.Version)
	end = start
	for sc.Next() {
		n := sc.Needle()
		if n.Cookie == 0 && n.ID == 0 && n.Size == 0 && (v.sb.Version != needle.Version3 || n.AppendAtNs == 0) {
			// A run of zeros: a file system that extended the file
			// without writing it. No version 3 writer produces this
			// record (AppendAtNs is never 0); in older versions only
			// an empty needle of key 0 and cookie 0 could.
			v.logger.Warn("zero-filled data past the last record", "at", sc.Offset())
			break
		}
		off := sc.Offset()
		e := idx.Entry{Key: n.ID, Offset: uint32(off / idx.OffsetUnit), Size: n.Size}
		if n.Size == 0 && v.isTombstone(n) {
			e.Size = idx.Tombstone
		}
		if err := v.appendIndex(e); err != nil {
			return 0, 0, err
		}
		v.applyEntry(e)
		v.lastAppendAtNs = max(v.lastAppendAtNs, n.AppendAtNs)
		end = off + needle.RecordLen(n.Size, v.sb.Version)
		added++
	}
	if err := sc.Err(); err != nil {
		if !errors.Is(err, needle.ErrCorrupt) {
			return 0, 0, err
		}
		v.logger.Warn("data file scan stopped", "at", sc.Offset(), "err", err)
	}
	return end, added, nil
}

// isTombstone tells a deletion marker from an empty needle, both Size 0
// records without an index entry. A delete is appended only for a live
// needle of the same cookie and carries that needle's checksum; an empty
// needle carries checksum 0 and, written over an identical empty needle of
// the same cookie, is not appended at all (unchanged). So: a Size 0 record
// is a tombstone iff its key is live with the same cookie and checksum.
// SeaweedFS's own index rebuild counts every Size 0 record as a delete.
func (v *Volume) isTombstone(n *needle.Needle) bool {
	old, ok := v.nm.Get(n.ID)
	if !ok || old.Deleted() {
		return false
	}
	cookie, checksum, err := v.readCookieChecksum(old)
	if err != nil {
		return true
	}
	return cookie == n.Cookie && checksum == n.Checksum
}

// readCookieChecksum reads the cookie and the checksum field of the record
// at mv without reading its body.
func (v *Volume) readCookieChecksum(mv mapValue) (cookie, checksum uint32, err error) {
	if mv.ByteOffset() < int64(v.sb.Len()) {
		return 0, 0, fmt.Errorf("%w: index points into the super block", ErrCorrupt)
	}
	var hdr [needle.HeaderSize]byte
	if err := readFull(v.dat, hdr[:], mv.ByteOffset()); err != nil {
		return 0, 0, err
	}
	cookie, _, size, err := needle.ParseHeader(hdr[:])
	if err != nil {
		return 0, 0, corrupt(err)
	}
	if size != mv.Size {
		return 0, 0, fmt.Errorf("%w: record at %d has size %d, index says %d", ErrCorrupt, mv.ByteOffset(), size, mv.Size)
	}
	var sum [needle.ChecksumSize]byte
	if err := readFull(v.dat, sum[:], mv.ByteOffset()+needle.HeaderSize+int64(size)); err != nil {
		return 0, 0, err
	}
	return cookie, binary.BigEndian.Uint32(sum[:]), nil
}

// applyEntry applies one index entry to the map, as the .idx loader does.
func (v *Volume) applyEntry(e idx.Entry) {
	if e.IsDeleted() {
		v.nm.Delete(e.Key, e.Offset)
		return
	}
	v.nm.Set(e.Key, e.Offset, e.Size)
}

// appendIndex appends e to .idx at idxSize and advances idxSize.
func (v *Volume) appendIndex(e idx.Entry) error {
	var b [idx.EntrySize]byte
	if _, err := v.idx.WriteAt(e.Append(b[:0]), v.idxSize); err != nil {
		return fmt.Errorf("append index entry: %w", err)
	}
	v.idxSize += idx.EntrySize
	return nil
}

// fileSize returns the current length of f.
func fileSize(f vfs.File) (int64, error) {
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	return st.Size(), nil
}
