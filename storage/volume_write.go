package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"weedfs.dev/weed/storage/idx"
	"weedfs.dev/weed/storage/needle"
	"weedfs.dev/weed/storage/vfs"
)

// maxKeptBuffer is the largest encode buffer a volume keeps between writes;
// bigger ones are left to the garbage collector.
const maxKeptBuffer = 1 << 20

// minWrittenAround is the data size from which a record is written around
// its data (header and tail encoded apart, one vectored write) instead of
// being encoded whole: below it the copy costs less than the extra iovecs.
const minWrittenAround = 64 << 10

// WriteOptions are per-write choices.
type WriteOptions struct {
	// Fsync makes the write durable (.dat and .idx synced) before Write
	// returns, sharing the sync with concurrent writers.
	Fsync bool
	// DataCRC, when set, is the CRC-32C of n.Data (needle.UpdateCRC) the
	// caller computed as the bytes arrived, while they were in the CPU's
	// cache: a large blob is then not read once more to checksum it. It
	// is stored as given; a wrong one makes every read of the needle fail.
	DataCRC *uint32
}

// WriteResult describes a stored needle.
type WriteResult struct {
	// Offset is where the record starts in .dat.
	Offset int64
	// Size is the needle's Size field (what a delete reports).
	Size uint32
	// Checksum is the CRC-32C of the stored data; needle.ETag formats it.
	Checksum uint32
	// Unchanged is set when an identical needle (same key, cookie and
	// data) was already stored and nothing was appended.
	Unchanged bool
}

// DeleteOptions are per-delete choices.
type DeleteOptions struct {
	// Fsync makes the delete durable before Delete returns.
	Fsync bool
}

// Write appends n to the volume: the record to .dat, its entry to .idx,
// then the map, so readers see it. It sets n's Size, Checksum, Flags and
// AppendAtNs. Writing a key that is live with another cookie fails with
// ErrCookieMismatch; with the same cookie and the same data it appends
// nothing and reports Unchanged (except on TTL volumes, where a rewrite
// renews the needle).
func (v *Volume) Write(ctx context.Context, n *needle.Needle, opts WriteOptions) (WriteResult, error) {
	if err := ctx.Err(); err != nil {
		return WriteResult{}, err
	}
	if len(n.Data) == 0 {
		// The checksum of no data: Append keeps the field as given when
		// there is no data (tombstones carry an old one).
		n.Checksum = 0
	}
	v.wmu.Lock()
	res, seq, err := v.appendNeedle(n, opts.DataCRC)
	v.wmu.Unlock()
	if err != nil {
		return WriteResult{}, fmt.Errorf("write needle %x to volume %d: %w", n.ID, v.id, err)
	}
	if opts.Fsync || v.fsyncAll {
		if err := v.waitDurable(seq, false); err != nil {
			return WriteResult{}, err
		}
	}
	return res, nil
}

// appendNeedle does the work of Write under wmu and returns the sequence
// number a sync must reach to make the result durable. crc, when set, is
// the CRC of n.Data.
func (v *Volume) appendNeedle(n *needle.Needle, crc *uint32) (WriteResult, uint64, error) {
	dataCRC := func() uint32 {
		if crc != nil {
			return *crc
		}
		return needle.CRC(n.Data)
	}
	v.mu.RLock()
	closed, readOnly, ttl, seq := v.closed, v.readOnly, v.sb.TTL, v.writeSeq
	old, found := v.nm.Get(n.ID)
	v.mu.RUnlock()
	switch {
	case closed:
		return WriteResult{}, 0, ErrClosed
	case readOnly:
		return WriteResult{}, 0, ErrReadOnly
	}
	if found && !old.Deleted() {
		unchanged, err := v.sameAsStored(n, dataCRC, old, ttl.IsEmpty())
		if err != nil {
			return WriteResult{}, 0, err
		}
		if unchanged {
			// seq: the stored copy may itself still wait for a sync.
			return WriteResult{Offset: old.ByteOffset(), Size: old.Size, Checksum: dataCRC(), Unchanged: true}, seq, nil
		}
	}
	if v.sb.Version == needle.Version3 {
		n.AppendAtNs = v.nextAppendAtNs()
	}
	var parts [3][]byte
	rec := parts[:1]
	if len(n.Data) >= minWrittenAround {
		// A large blob goes to disk from the buffer it arrived in.
		var buf []byte
		var split int
		var err error
		if crc != nil {
			buf, split, err = n.AppendAroundChecksum(v.wbuf[:0], v.sb.Version, *crc)
		} else {
			buf, split, err = n.AppendAround(v.wbuf[:0], v.sb.Version)
		}
		if err != nil {
			return WriteResult{}, 0, err
		}
		v.wbuf = buf[:0]
		parts[0], parts[1], parts[2] = buf[:split], n.Data, buf[split:]
		rec = parts[:]
	} else {
		buf, err := n.Append(v.wbuf[:0], v.sb.Version)
		if err != nil {
			return WriteResult{}, 0, err
		}
		if cap(buf) <= maxKeptBuffer {
			v.wbuf = buf[:0]
		}
		parts[0] = buf
	}
	off, err := v.appendRecord(rec, v.sizeLimit, idx.Entry{Key: n.ID, Size: n.Size})
	if err != nil {
		return WriteResult{}, 0, err
	}
	v.mu.Lock()
	v.nm.Set(n.ID, uint32(off/idx.OffsetUnit), n.Size)
	seq = v.publish(off + recordLen(rec))
	v.mu.Unlock()
	return WriteResult{Offset: off, Size: n.Size, Checksum: n.Checksum}, seq, nil
}

// sameAsStored checks n against the live needle stored at old: another
// cookie is an error; with checkSame it reports whether the data is
// identical (SeaweedFS's isFileUnchanged). wmu must be held.
func (v *Volume) sameAsStored(n *needle.Needle, dataCRC func() uint32, old mapValue, checkSame bool) (bool, error) {
	cookie, checksum, err := v.readCookieChecksum(old)
	if err != nil {
		return false, fmt.Errorf("read existing needle: %w", err)
	}
	if cookie != n.Cookie {
		return false, fmt.Errorf("%w: needle %x has cookie %08x, not %08x", ErrCookieMismatch, n.ID, cookie, n.Cookie)
	}
	if !checkSame || checksum != dataCRC() {
		return false, nil
	}
	stored, err := v.readRecord(n.ID, old, v.datSize, nil)
	if errors.Is(err, ErrCorrupt) {
		// The stored copy is damaged: the new one replaces it.
		v.logger.Warn("overwriting a needle whose stored copy is corrupt", "key", n.ID, "err", err)
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read existing needle: %w", err)
	}
	return bytes.Equal(stored.Data, n.Data), nil
}

// nextAppendAtNs returns a timestamp later than every one in the volume,
// even if the clock went back. wmu must be held.
func (v *Volume) nextAppendAtNs() uint64 {
	ts := max(uint64(v.now().UnixNano()), v.lastAppendAtNs+1)
	v.lastAppendAtNs = ts
	return ts
}

// recordLen is the length of a record in parts.
func recordLen(parts [][]byte) int64 {
	var n int64
	for _, p := range parts {
		n += int64(len(p))
	}
	return n
}

// appendRecord writes the encoded record, the concatenation of parts, at
// the end of .dat and then e (with e.Offset set to the record's) at the end
// of .idx, and returns the record's offset. limit bounds the end of .dat.
// On failure it cuts both files back, so a later append does not leave a
// hole. wmu must be held; the caller publishes the append.
func (v *Volume) appendRecord(parts [][]byte, limit int64, e idx.Entry) (int64, error) {
	off := v.datSize
	if size := recordLen(parts); off+size > limit {
		return 0, fmt.Errorf("%w: %d + %d bytes passes the limit of %d", ErrVolumeFull, off, size, limit)
	}
	o, err := idx.ToOffset(off)
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrVolumeFull, err)
	}
	e.Offset = o
	if _, err := vfs.WriteVectorAt(v.dat, parts, off); err != nil {
		_ = v.dat.Truncate(off)
		return 0, fmt.Errorf("append to data file: %w", err)
	}
	var b [idx.EntrySize]byte
	if _, err := v.idx.WriteAt(e.Append(b[:0]), v.idxSize); err != nil {
		_ = v.idx.Truncate(v.idxSize)
		_ = v.dat.Truncate(off)
		return 0, fmt.Errorf("append to index: %w", err)
	}
	return off, nil
}

// publish records an append that ended .dat at datEnd, and returns its
// sequence number. wmu and mu must be held.
func (v *Volume) publish(datEnd int64) uint64 {
	v.datSize = datEnd
	v.idxSize += idx.EntrySize
	v.writeSeq++
	v.modTime = v.now()
	return v.writeSeq
}

// Delete marks the needle key deleted: it appends a tombstone record (Size
// 0, same cookie, the deleted data's checksum) and an index entry with the
// tombstone size. It returns the deleted needle's Size field. The data stays
// readable with ReadOptions.ReadDeleted until compaction. An absent key
// gives ErrNotFound, a deleted one ErrDeleted, another cookie
// ErrCookieMismatch.
func (v *Volume) Delete(ctx context.Context, key uint64, cookie uint32, opts DeleteOptions) (uint32, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	v.wmu.Lock()
	size, seq, err := v.appendTombstone(key, cookie)
	v.wmu.Unlock()
	if err != nil {
		return 0, fmt.Errorf("delete needle %x from volume %d: %w", key, v.id, err)
	}
	if opts.Fsync || v.fsyncAll {
		if err := v.waitDurable(seq, false); err != nil {
			return 0, err
		}
	}
	return size, nil
}

func (v *Volume) appendTombstone(key uint64, cookie uint32) (uint32, uint64, error) {
	v.mu.RLock()
	closed, readOnly := v.closed, v.readOnly
	old, found := v.nm.Get(key)
	v.mu.RUnlock()
	switch {
	case closed:
		return 0, 0, ErrClosed
	case readOnly:
		return 0, 0, ErrReadOnly
	case !found:
		return 0, 0, ErrNotFound
	case old.Deleted():
		return 0, 0, ErrDeleted
	}
	stored, checksum, err := v.readCookieChecksum(old)
	if err != nil {
		return 0, 0, fmt.Errorf("read needle: %w", err)
	}
	if stored != cookie {
		return 0, 0, fmt.Errorf("%w: needle %x has cookie %08x, not %08x", ErrCookieMismatch, key, stored, cookie)
	}
	tomb := needle.Needle{Cookie: cookie, ID: key, Checksum: checksum}
	if v.sb.Version == needle.Version3 {
		tomb.AppendAtNs = v.nextAppendAtNs()
	}
	var b [64]byte
	rec, err := tomb.Append(b[:0], v.sb.Version)
	if err != nil {
		return 0, 0, err
	}
	// Deletes may pass the configured limit (they free space at the next
	// compaction), never the hard one.
	off, err := v.appendRecord([][]byte{rec}, idx.MaxVolumeSize, idx.Entry{Key: key, Size: idx.Tombstone})
	if err != nil {
		return 0, 0, err
	}
	v.mu.Lock()
	v.nm.Delete(key, uint32(off/idx.OffsetUnit))
	seq := v.publish(off + int64(len(rec)))
	v.mu.Unlock()
	return old.Size, seq, nil
}

// NextDataOffset is where in .dat the data of a large needle written now
// would start: after the record header and, from version 2, the data size
// field. It is a hint that a concurrent append makes stale. A caller that
// places a blob in memory at the same offset modulo a cache line (or a
// page) makes the kernel's copy into the page cache a mutually aligned one:
// on this kind of machine (AMD EPYC, rep movsb) a 4 MiB write whose source
// and destination differ in alignment takes ~20% more CPU
// (BenchmarkVolumeWriteAligned).
func (v *Volume) NextDataOffset() int64 {
	v.mu.RLock()
	defer v.mu.RUnlock()
	off := v.datSize + needle.HeaderSize
	if v.sb.Version != needle.Version1 {
		off += needle.DataSizeSize
	}
	return off
}
