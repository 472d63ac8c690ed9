package storage

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"sync"
	"time"

	"weedfs.dev/weed/storage/idx"
	"weedfs.dev/weed/storage/superblock"
	"weedfs.dev/weed/storage/vfs"
)

// OpenVolume opens an existing volume and recovers it from a crash if it
// has to (see the package doc): it finishes or drops an interrupted
// compaction, cuts torn tails, re-indexes records the .idx missed and
// rebuilds a missing .idx. Placement, TTL and Version of opts are ignored.
func OpenVolume(fsys vfs.FS, dir, collection string, id uint32, opts VolumeOptions) (*Volume, error) {
	if err := checkCollection(collection); err != nil {
		return nil, err
	}
	v := &Volume{
		fs:         fsys,
		dir:        dir,
		collection: collection,
		id:         id,
		logger:     opts.Logger,
		now:        opts.Now,
		sizeLimit:  opts.SizeLimit,
		fsyncAll:   opts.Fsync,
		done:       make(chan struct{}),

		compactRate: opts.CompactBytesPerSecond,
		sleep:       sleepCtx,
	}
	v.sync.cond = sync.NewCond(&v.sync.mu)
	if v.logger == nil {
		v.logger = slog.New(slog.DiscardHandler)
	}
	v.logger = v.logger.With("volume", id, "collection", collection)
	if v.now == nil {
		v.now = time.Now
	}
	if v.sizeLimit <= 0 || v.sizeLimit > idx.MaxVolumeSize {
		v.sizeLimit = idx.MaxVolumeSize
	}
	if err := v.open(); err != nil {
		return nil, fmt.Errorf("open volume %d in %s: %w", id, dir, err)
	}
	return v, nil
}

// open opens the files, reads the super block and the .vif and recovers the
// .idx and .dat tails. On error every file it opened is closed.
func (v *Volume) open() (err error) {
	base := v.base()
	if err := finishCompaction(v.fs, v.dir, base, v.logger); err != nil {
		return err
	}
	dat, err := v.fs.OpenFile(base+extDat, os.O_RDWR, 0)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%w: %w", ErrVolumeNotFound, err)
		}
		return err
	}
	defer func() {
		if err != nil {
			dat.Close()
		}
	}()
	sb, err := readSuperBlock(dat)
	if err != nil {
		return err
	}
	idxFile, err := v.fs.OpenFile(base+extIdx, os.O_RDWR, 0)
	rebuild := false
	if errors.Is(err, fs.ErrNotExist) {
		v.logger.Warn("index missing: rebuilding it from the data file", "file", base+extIdx)
		idxFile, err = v.fs.OpenFile(base+extIdx, os.O_RDWR|os.O_CREATE|os.O_TRUNC, filePerm)
		rebuild = true
	}
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			idxFile.Close()
		}
	}()
	v.dat, v.idx, v.sb = dat, idxFile, sb
	if err := v.loadVolumeInfo(); err != nil {
		return err
	}
	repaired, err := v.recover()
	if err != nil {
		return err
	}
	if repaired || rebuild {
		// Make the repair durable so a second crash does not redo it
		// differently, and the rebuilt .idx's name with it.
		if err := errors.Join(dat.Sync(), idxFile.Sync()); err != nil {
			return err
		}
		if rebuild {
			if err := v.fs.SyncDir(v.dir); err != nil {
				return err
			}
		}
	}
	if st, err := dat.Stat(); err == nil {
		v.modTime = st.ModTime()
	}
	return nil
}

// readSuperBlock reads and parses the super block at the start of f,
// including its extra bytes (at most 64 KiB: the width of their length).
func readSuperBlock(f vfs.File) (superblock.SuperBlock, error) {
	b := make([]byte, superblock.Size+1<<16)
	n, err := f.ReadAt(b, 0)
	if n < superblock.Size && err != nil && !errors.Is(err, io.EOF) {
		return superblock.SuperBlock{}, fmt.Errorf("read super block: %w", err)
	}
	sb, err := superblock.Parse(b[:n])
	if err != nil {
		return superblock.SuperBlock{}, corrupt(err)
	}
	// Parse aliases b: keep only the extra bytes, not the 64 KiB buffer.
	sb.Extra = bytes.Clone(sb.Extra)
	return sb, nil
}

// finishCompaction completes or drops a compaction a crash interrupted:
// with the .cpc marker the renames are rolled forward, without it the
// half-built .cpd/.cpx are removed.
func finishCompaction(fsys vfs.FS, dir, base string, logger *slog.Logger) error {
	exists := func(name string) bool {
		_, err := fsys.Stat(name)
		return err == nil
	}
	// The commit renames .cpd before .cpx, so a marker beside a .cpd
	// without its .cpx is not one of ours to follow: keep the old volume.
	if exists(base+extCommit) && exists(base+extCompacted) && !exists(base+extCompactIx) {
		logger.Error("compaction marker with a data file but no index: keeping the old volume", "file", base+extCommit)
		if err := fsys.Remove(base + extCommit); err != nil {
			return err
		}
		if err := fsys.SyncDir(dir); err != nil {
			return err
		}
	}
	if exists(base + extCommit) {
		logger.Warn("finishing an interrupted compaction commit", "file", base+extCommit)
		if exists(base + extCompacted) {
			if err := fsys.Rename(base+extCompacted, base+extDat); err != nil {
				return err
			}
		}
		if exists(base + extCompactIx) {
			if err := fsys.Rename(base+extCompactIx, base+extIdx); err != nil {
				return err
			}
		}
		if err := fsys.SyncDir(dir); err != nil {
			return err
		}
		if err := fsys.Remove(base + extCommit); err != nil {
			return err
		}
		return fsys.SyncDir(dir)
	}
	removed := false
	for _, ext := range []string{extCompacted, extCompactIx} {
		if exists(base + ext) {
			logger.Warn("removing the files of an abandoned compaction", "file", base+ext)
			if err := fsys.Remove(base + ext); err != nil {
				return err
			}
			removed = true
		}
	}
	if removed {
		return fsys.SyncDir(dir)
	}
	return nil
}
