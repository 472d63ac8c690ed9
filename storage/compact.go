package storage

import (
	"context"
	"errors"
	"fmt"
	"os"

	"weedfs.dev/weed/storage/idx"
	"weedfs.dev/weed/storage/needle"
	"weedfs.dev/weed/storage/needlemap"
	"weedfs.dev/weed/storage/superblock"
	"weedfs.dev/weed/storage/vfs"
)

// ErrNoCompaction is returned by CommitCompact when no Compact preceded it.
var ErrNoCompaction = errors.New("storage: no compaction to commit")

// compactCheckEvery is how many needles Compact copies between checks of
// its context and of Close.
const compactCheckEvery = 256

// compactState is a compaction that Compact finished and CommitCompact has
// not yet committed.
type compactState struct {
	// idxStart is the .idx length the copy covered; CommitCompact replays
	// the entries after it.
	idxStart int64
	sb       superblock.SuperBlock
	cpd, cpx *appendFile
	// nm indexes the compacted files, for the replay of deletes.
	nm *needlemap.Map
}

// abandon closes and removes the compaction's files.
func (c *compactState) abandon(fsys vfs.FS) error {
	return errors.Join(c.cpd.f.Close(), c.cpx.f.Close(), removeIfExists(fsys, c.cpd.name), removeIfExists(fsys, c.cpx.name))
}

// Compact copies the live needles into .cpd/.cpx, under a super block with
// CompactionRevision+1, skipping deleted, expired and unreadable needles
// (an unreadable one is logged: its bytes could never be served). Reads and
// writes go on meanwhile. CommitCompact makes the result the volume;
// CleanupCompact drops it.
func (v *Volume) Compact(ctx context.Context) error {
	v.compactMu.Lock()
	defer v.compactMu.Unlock()
	v.wmu.Lock()
	v.mu.RLock()
	closed := v.closed
	idxStart, datEnd, sb, dat, idxFile := v.idxSize, v.datSize, v.sb, v.dat, v.idx
	v.mu.RUnlock()
	var err error
	if v.compaction != nil {
		err = v.compaction.abandon(v.fs)
		v.compaction = nil
	}
	v.wmu.Unlock()
	if closed {
		return ErrClosed
	}
	if err != nil {
		return fmt.Errorf("compact volume %d: drop the previous compaction: %w", v.id, err)
	}
	// dat and idxFile stay valid: only CommitCompact swaps them, and it
	// waits for compactMu. Both files only grow past what is read here.
	c, err := v.copyLive(ctx, dat, idxFile, idxStart, datEnd, sb)
	if err != nil {
		return fmt.Errorf("compact volume %d: %w", v.id, err)
	}
	v.wmu.Lock()
	defer v.wmu.Unlock()
	if v.isClosed() {
		return errors.Join(ErrClosed, c.abandon(v.fs))
	}
	v.compaction = c
	return nil
}

func (v *Volume) isClosed() bool {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.closed
}

// copyLive writes the compacted files from the .idx prefix of idxStart
// bytes and the .dat records it points at.
func (v *Volume) copyLive(ctx context.Context, dat, idxFile vfs.File, idxStart, datEnd int64, sb superblock.SuperBlock) (_ *compactState, err error) {
	snap, whole, err := needlemap.LoadAt(idxFile, idxStart)
	if err != nil {
		return nil, fmt.Errorf("load index snapshot: %w", err)
	}
	if whole != idxStart {
		return nil, fmt.Errorf("%w: index snapshot of %d bytes loaded %d", ErrCorrupt, idxStart, whole)
	}
	sb.CompactionRevision++
	sb.Extra = append([]byte(nil), sb.Extra...)
	c := &compactState{idxStart: idxStart, sb: sb, nm: needlemap.New()}
	base := v.base()
	if c.cpd, err = createAppendFile(v.fs, base+extCompacted); err != nil {
		return nil, err
	}
	if c.cpx, err = createAppendFile(v.fs, base+extCompactIx); err != nil {
		c.cpd.f.Close()
		_ = removeIfExists(v.fs, c.cpd.name)
		return nil, err
	}
	defer func() {
		if err != nil {
			_ = c.abandon(v.fs)
		}
	}()
	if _, err := c.cpd.write(sb.Bytes()); err != nil {
		return nil, err
	}
	var copyErr error
	count := 0
	throttle := v.newThrottle()
	var buf []byte
	snap.Ascend(func(key uint64, mv needlemap.Value) bool {
		if mv.Deleted() {
			return true
		}
		if count++; count%compactCheckEvery == 0 {
			if copyErr = v.stopped(ctx); copyErr != nil {
				return false
			}
		}
		recLen := needle.RecordLen(mv.Size, sb.Version)
		if off := mv.ByteOffset(); off < int64(sb.Len()) || off+recLen > datEnd {
			v.logger.Error("compaction drops a needle whose entry points outside the data file", "key", key, "offset", off)
			return true
		}
		// One buffer for all records: appendRecord copies the bytes.
		if int64(cap(buf)) < recLen {
			buf = make([]byte, recLen)
		}
		rec := buf[:recLen]
		if copyErr = readFull(dat, rec, mv.ByteOffset()); copyErr != nil && !errors.Is(copyErr, ErrCorrupt) {
			return false
		}
		var n *needle.Needle
		if copyErr == nil {
			n, copyErr = needle.Decode(rec, sb.Version)
		}
		if copyErr == nil && (n.ID != key || n.Size != mv.Size) {
			copyErr = fmt.Errorf("%w: record at %d is not needle %x", ErrCorrupt, mv.ByteOffset(), key)
		}
		if copyErr != nil {
			v.logger.Error("compaction drops an unreadable needle", "key", key, "offset", mv.ByteOffset(), "err", copyErr)
			copyErr = nil
			return true
		}
		if at, ok := ExpiresAt(n); ok && !v.now().Before(at) {
			return true
		}
		if copyErr = c.appendRecord(key, n.Size, rec); copyErr != nil {
			return false
		}
		copyErr = throttle.wait(ctx, v.done, int64(len(rec)))
		return copyErr == nil
	})
	if copyErr != nil {
		return nil, copyErr
	}
	if err := errors.Join(c.cpd.flush(), c.cpx.flush()); err != nil {
		return nil, err
	}
	return c, nil
}

// stopped returns why a compaction must stop: its context ended or the
// volume was closed.
func (v *Volume) stopped(ctx context.Context) error {
	select {
	case <-v.done:
		return ErrClosed
	default:
		return ctx.Err()
	}
}

// appendRecord appends a record (raw bytes of size field size) and its
// index entry to the compacted files.
func (c *compactState) appendRecord(key uint64, size uint32, rec []byte) error {
	off, err := c.cpd.write(rec)
	if err != nil {
		return err
	}
	o, err := idx.ToOffset(off)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrVolumeFull, err)
	}
	_, err = c.cpx.write(idx.Entry{Key: key, Offset: o, Size: size}.Append(nil))
	if err != nil {
		return err
	}
	c.nm.Set(key, o, size)
	return nil
}

// appendTombstone appends a tombstone record (raw) and a delete entry.
func (c *compactState) appendTombstone(key uint64, rec []byte) error {
	off, err := c.cpd.write(rec)
	if err != nil {
		return err
	}
	o, err := idx.ToOffset(off)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrVolumeFull, err)
	}
	if _, err := c.cpx.write(idx.Entry{Key: key, Offset: o, Size: idx.Tombstone}.Append(nil)); err != nil {
		return err
	}
	c.nm.Delete(key, o)
	return nil
}

// CleanupCompact drops a compaction that will not be committed.
func (v *Volume) CleanupCompact() error {
	v.compactMu.Lock()
	defer v.compactMu.Unlock()
	v.wmu.Lock()
	defer v.wmu.Unlock()
	var err error
	if v.compaction != nil {
		err = v.compaction.abandon(v.fs)
		v.compaction = nil
	}
	base := v.base()
	err = errors.Join(err, removeIfExists(v.fs, base+extCompacted), removeIfExists(v.fs, base+extCompactIx))
	if err != nil {
		return fmt.Errorf("clean up compaction of volume %d: %w", v.id, err)
	}
	return nil
}

// removeIfExists removes name; a missing file is not an error.
func removeIfExists(fsys vfs.FS, name string) error {
	if err := fsys.Remove(name); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}
