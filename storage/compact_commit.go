package storage

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"

	"weedfs.dev/weed/storage/idx"
	"weedfs.dev/weed/storage/needle"
)

// CommitCompact makes the compacted files the volume. With writers stopped
// it replays onto .cpd/.cpx the index entries appended since Compact began,
// syncs them, writes the .cpc marker durably, renames .cpd over .dat and
// .cpx over .idx, and opens the result. Readers go on with the old files
// until a final swap of handles. A crash at any point leaves the old or the
// new volume, whole (OpenVolume finishes what the marker promises).
func (v *Volume) CommitCompact(ctx context.Context) error {
	v.compactMu.Lock()
	defer v.compactMu.Unlock()
	v.wmu.Lock()
	defer v.wmu.Unlock()
	c := v.compaction
	if c == nil {
		return ErrNoCompaction
	}
	if v.isClosed() {
		return ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	v.compaction = nil
	if err := v.replayDiff(c); err != nil {
		return fmt.Errorf("commit compaction of volume %d: %w", v.id, errors.Join(err, c.abandon(v.fs)))
	}
	if err := errors.Join(c.cpd.flush(), c.cpx.flush(), c.cpd.f.Sync(), c.cpx.f.Sync()); err != nil {
		return fmt.Errorf("commit compaction of volume %d: %w", v.id, errors.Join(err, c.abandon(v.fs)))
	}
	if err := errors.Join(c.cpd.f.Close(), c.cpx.f.Close()); err != nil {
		return fmt.Errorf("commit compaction of volume %d: %w", v.id, errors.Join(err, c.abandon(v.fs)))
	}
	base := v.base()
	marker := []byte("compaction revision " + strconv.Itoa(int(c.sb.CompactionRevision)) + "\n")
	if err := writeFileSync(v.fs, base+extCommit, marker, os.O_TRUNC); err != nil {
		// The marker must be gone, durably, before .cpd/.cpx are: a
		// marker with only one of them would roll a mismatched pair
		// forward on the next open.
		// If that fails too, only the disk knows which volume it holds:
		// reopen from it, and appends go on from there.
		if rmErr := errors.Join(removeIfExists(v.fs, base+extCommit), v.fs.SyncDir(v.dir)); rmErr != nil {
			return v.reopenAfterCommit(errors.Join(err, rmErr))
		}
		return fmt.Errorf("commit compaction of volume %d: %w", v.id, errors.Join(err, c.abandon(v.fs)))
	}
	if err := v.fs.SyncDir(v.dir); err != nil {
		// The marker may or may not be durable: only reopening knows.
		return v.reopenAfterCommit(fmt.Errorf("sync folder after commit marker: %w", err))
	}
	// From here the new volume is decided.
	return v.reopenAfterCommit(nil)
}

// reopenAfterCommit opens the volume the disk now holds beside the open
// one (the open path renames .cpd/.cpx into place if the marker says so,
// and loads the new index) while readers go on with the old files, which
// stay readable through their open handles. Then it swaps, holding mu only
// for that and waiting for a group sync in flight on the old handles to end
// first. If the new volume does not open, the volume is closed: the files
// on disk are whole, and opening it again finishes the job. wmu must be
// held.
func (v *Volume) reopenAfterCommit(cause error) error {
	nv := &Volume{fs: v.fs, dir: v.dir, collection: v.collection, id: v.id, logger: v.logger, now: v.now}
	err := nv.open()
	if err == nil {
		// Usually these are the synced compacted files; after a failed
		// commit they may be the old ones. Either way every append so far
		// is in them, and this sync makes it durable.
		if err = errors.Join(nv.dat.Sync(), nv.idx.Sync()); err != nil {
			err = errors.Join(err, nv.dat.Close(), nv.idx.Close())
		}
	}

	g := &v.sync
	g.mu.Lock()
	for g.inFlight {
		g.cond.Wait()
	}
	g.inFlight = true
	g.mu.Unlock()
	defer func() {
		g.mu.Lock()
		g.inFlight = false
		g.cond.Broadcast()
		g.mu.Unlock()
	}()

	v.fmu.Lock()
	defer v.fmu.Unlock()
	v.mu.Lock()
	defer v.mu.Unlock()
	oldErr := errors.Join(v.dat.Close(), v.idx.Close())
	if err != nil {
		v.closed = true
		close(v.done)
		return fmt.Errorf("commit compaction of volume %d: reopen: %w", v.id, errors.Join(cause, err, oldErr))
	}
	v.dat, v.idx, v.nm, v.sb = nv.dat, nv.idx, nv.nm, nv.sb
	v.datSize, v.idxSize, v.vif, v.readOnly = nv.datSize, nv.idxSize, nv.vif, nv.readOnly
	v.modTime = v.now()
	v.lastAppendAtNs = max(v.lastAppendAtNs, nv.lastAppendAtNs)
	// Everything appended so far is in the synced compacted files.
	g.mu.Lock()
	g.synced = v.writeSeq
	g.mu.Unlock()
	if oldErr != nil {
		v.logger.Warn("closing the files compaction replaced", "err", oldErr)
	}
	return cause
}

// replayDiff copies onto the compacted files what was appended to .idx
// since Compact took its snapshot. wmu must be held.
func (v *Volume) replayDiff(c *compactState) error {
	n := v.idxSize - c.idxStart
	if n == 0 {
		return nil
	}
	buf := make([]byte, n)
	if err := readFull(v.idx, buf, c.idxStart); err != nil {
		return fmt.Errorf("read index diff: %w", err)
	}
	for i := 0; i < len(buf); i += idx.EntrySize {
		e, err := idx.Decode(buf[i:])
		if err != nil {
			return corrupt(err)
		}
		if err := v.replayEntry(c, e); err != nil {
			return err
		}
	}
	return nil
}

// replayEntry copies the record of one index entry appended during the
// compaction onto the compacted files.
func (v *Volume) replayEntry(c *compactState, e idx.Entry) error {
	ver := c.sb.Version
	if e.IsDeleted() {
		if mv, ok := c.nm.Get(e.Key); !ok || mv.Deleted() {
			return nil // nothing of the key in the compacted files
		}
		if e.Offset == 0 {
			c.nm.Delete(e.Key, 0)
			_, err := c.cpx.write(idx.Entry{Key: e.Key, Size: idx.Tombstone}.Append(nil))
			return err
		}
	}
	size := entryRecordSize(e)
	recLen := needle.RecordLen(size, ver)
	if e.ActualOffset()+recLen > v.datSize {
		return fmt.Errorf("%w: entry of needle %x points past the data file", ErrCorrupt, e.Key)
	}
	rec := make([]byte, recLen)
	if err := readFull(v.dat, rec, e.ActualOffset()); err != nil {
		return err
	}
	n, err := needle.Decode(rec, ver)
	if err != nil {
		return corrupt(fmt.Errorf("record at %d: %w", e.ActualOffset(), err))
	}
	if n.ID != e.Key || n.Size != size {
		return fmt.Errorf("%w: record at %d is not needle %x", ErrCorrupt, e.ActualOffset(), e.Key)
	}
	if e.IsDeleted() {
		return c.appendTombstone(e.Key, rec)
	}
	return c.appendRecord(e.Key, size, rec)
}
