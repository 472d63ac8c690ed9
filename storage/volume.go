package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"weedfs.dev/weed/storage/idx"
	"weedfs.dev/weed/storage/needle"
	"weedfs.dev/weed/storage/needlemap"
	"weedfs.dev/weed/storage/superblock"
	"weedfs.dev/weed/storage/vfs"
)

// Errors of this package. Decoding failures wrap both ErrCorrupt and the
// format package's own ErrCorrupt.
var (
	ErrCorrupt        = errors.New("storage: corrupt")
	ErrNotFound       = errors.New("storage: not found")
	ErrDeleted        = errors.New("storage: deleted")
	ErrCookieMismatch = errors.New("storage: cookie mismatch")
	ErrReadOnly       = errors.New("storage: volume is read only")
	ErrVolumeFull     = errors.New("storage: volume full")
	ErrVolumeNotFound = errors.New("storage: volume not found")
	ErrVolumeExists   = errors.New("storage: volume exists")
	ErrClosed         = errors.New("storage: volume closed")
	// ErrExpired wraps ErrNotFound: a needle whose TTL has passed is gone
	// for readers, as in SeaweedFS.
	ErrExpired = fmt.Errorf("%w: expired", ErrNotFound)
)

// File name extensions of a volume.
const (
	extDat       = ".dat"
	extIdx       = ".idx"
	extVif       = ".vif"
	extCompacted = ".cpd" // compacted .dat being built
	extCompactIx = ".cpx" // compacted .idx being built
	extCommit    = ".cpc" // commit marker: roll the renames forward
)

// filePerm is the mode of the files a volume creates.
const filePerm = 0o644

// VolumeOptions configure CreateVolume and OpenVolume. Placement, TTL and
// Version are used only on create; an existing volume keeps its super block.
type VolumeOptions struct {
	Placement superblock.ReplicaPlacement
	TTL       needle.TTL
	// Version of the needle format on create; 0 means needle.CurrentVersion.
	Version needle.Version
	// SizeLimit is the .dat size writes may not pass; 0 or more than
	// idx.MaxVolumeSize means idx.MaxVolumeSize (4-byte offsets).
	SizeLimit int64
	// Fsync makes every write and delete durable before it returns.
	Fsync bool
	// Logger receives recovery and compaction messages; nil discards them.
	Logger *slog.Logger
	// Now is the clock for AppendAtNs and TTL expiry; nil means time.Now.
	Now func() time.Time
	// CompactBytesPerSecond throttles the copy of Compact (SeaweedFS's
	// -compactionMBps), so a vacuum leaves disk time to the traffic;
	// 0 means no limit.
	CompactBytesPerSecond int64
}

// Volume is one open volume: its .dat, .idx and .vif files and the in-memory
// needle map. It is safe for concurrent use: one writer at a time, many
// readers alongside.
type Volume struct {
	fs         vfs.FS
	dir        string
	collection string
	id         uint32
	logger     *slog.Logger
	now        func() time.Time
	sizeLimit  int64
	fsyncAll   bool
	// compactRate is VolumeOptions.CompactBytesPerSecond; sleep waits
	// for the throttle (a test replaces it).
	compactRate int64
	sleep       func(context.Context, time.Duration) error

	// wmu serializes everything that appends to .dat/.idx or swaps files:
	// writes, deletes, mode changes, compaction commit, Close.
	wmu sync.Mutex
	// lastAppendAtNs is the largest AppendAtNs in .dat. Guarded by wmu.
	lastAppendAtNs uint64
	// wbuf is the encode buffer of the current writer. Guarded by wmu.
	wbuf []byte
	// compaction is the compaction in progress, nil if none. Guarded by wmu.
	compaction *compactState
	// compactMu allows one Compact/CommitCompact/CleanupCompact at a time.
	compactMu sync.Mutex

	// fmu keeps the file handles open and in place while a reader uses
	// them: readers hold it (read) through their disk read; Close and the
	// compaction swap hold it (write). Writers never wait for a read.
	// Lock order: wmu, fmu, mu.
	fmu sync.RWMutex
	// mu guards what readers look up. Writers hold wmu and take mu only to
	// publish an append (map, sizes) or to swap files.
	mu  sync.RWMutex
	dat vfs.File
	idx vfs.File
	nm  *needlemap.Map
	sb  superblock.SuperBlock
	// Invariant: datSize is 8-aligned and every byte of .dat before it is
	// the super block or a whole record; idxSize is a multiple of 16.
	datSize  int64
	idxSize  int64
	vif      superblock.VolumeInfo
	readOnly bool
	closed   bool
	modTime  time.Time
	// writeSeq counts published appends; group commit syncs up to it.
	writeSeq uint64

	sync groupSync
	// done is closed by Close, to stop a running compaction.
	done chan struct{}
}

// FileBase returns the path of a volume's files without extension:
// dir/<collection>_<id>, or dir/<id> for the default collection.
func FileBase(dir, collection string, id uint32) string {
	name := strconv.FormatUint(uint64(id), 10)
	if collection != "" {
		name = collection + "_" + name
	}
	return filepath.Join(dir, name)
}

// CreateVolume creates a new empty volume in dir: a .dat holding only the
// super block, an empty .idx and a .vif, all durable when it returns.
func CreateVolume(fs vfs.FS, dir, collection string, id uint32, opts VolumeOptions) (*Volume, error) {
	if err := checkCollection(collection); err != nil {
		return nil, err
	}
	base := FileBase(dir, collection, id)
	if _, err := fs.Stat(base + extDat); err == nil {
		return nil, fmt.Errorf("create volume %d in %s: %w", id, dir, ErrVolumeExists)
	}
	ver := opts.Version
	if ver == 0 {
		ver = needle.CurrentVersion
	}
	if !ver.Valid() {
		return nil, fmt.Errorf("create volume %d: version %d: %w", id, ver, needle.ErrVersion)
	}
	sb := superblock.SuperBlock{Version: ver, Placement: opts.Placement, TTL: opts.TTL}
	if err := createFiles(fs, dir, base, sb); err != nil {
		return nil, fmt.Errorf("create volume %d in %s: %w", id, dir, err)
	}
	return OpenVolume(fs, dir, collection, id, opts)
}

// createFiles writes the super block, an empty .idx and the .vif, and makes
// them durable. The .dat is created exclusively: it is what makes a volume
// exist; an .idx or .vif without it is a leftover and is replaced. On
// failure it removes what it created.
func createFiles(fs vfs.FS, dir, base string, sb superblock.SuperBlock) (err error) {
	if err := writeFileSync(fs, base+extDat, sb.Bytes(), os.O_EXCL); err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = fs.Remove(base + extDat)
			_ = fs.Remove(base + extIdx)
			_ = fs.Remove(base + extVif)
		}
	}()
	if err := writeFileSync(fs, base+extIdx, nil, os.O_TRUNC); err != nil {
		return err
	}
	info := newVolumeInfo(sb.Version)
	b, err := info.Marshal()
	if err != nil {
		return fmt.Errorf("volume info: %w", err)
	}
	if err := writeFileSync(fs, base+extVif, b, os.O_TRUNC); err != nil {
		return err
	}
	return fs.SyncDir(dir)
}

// writeFileSync creates (or with O_TRUNC replaces) name with content b and
// syncs it. The directory entry is the caller's to sync.
func writeFileSync(fs vfs.FS, name string, b []byte, flag int) error {
	f, err := fs.OpenFile(name, os.O_RDWR|os.O_CREATE|flag, filePerm)
	if err != nil {
		return err
	}
	if len(b) > 0 {
		if _, err := f.WriteAt(b, 0); err != nil {
			f.Close()
			return err
		}
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// readFile reads a whole (small) file through fs.
func readFile(fs vfs.FS, name string) ([]byte, error) {
	f, err := fs.OpenFile(name, os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// checkCollection refuses collection names that would put the volume's
// files outside its folder.
func checkCollection(c string) error {
	if c == "." || c == ".." || strings.ContainsAny(c, "/\\\x00") {
		return fmt.Errorf("storage: bad collection name %q", c)
	}
	return nil
}

// ID returns the volume id.
func (v *Volume) ID() uint32 { return v.id }

// Collection returns the volume's collection, "" for the default one.
func (v *Volume) Collection() string { return v.collection }

// Dir returns the folder holding the volume's files.
func (v *Volume) Dir() string { return v.dir }

// SuperBlock returns the volume's super block.
func (v *Volume) SuperBlock() superblock.SuperBlock {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.sb
}

// Version returns the needle format version of the volume.
func (v *Volume) Version() needle.Version { return v.SuperBlock().Version }

// base returns the volume's file path without extension.
func (v *Volume) base() string { return FileBase(v.dir, v.collection, v.id) }

// Close syncs and closes the volume's files and stops a running compaction.
// Later calls return ErrClosed.
func (v *Volume) Close() error {
	v.wmu.Lock()
	defer v.wmu.Unlock()
	v.mu.Lock()
	if v.closed {
		v.mu.Unlock()
		return ErrClosed
	}
	v.mu.Unlock()
	// Sync first, while readers can still run and no writer can start.
	syncErr := v.syncAll()
	v.fmu.Lock()
	defer v.fmu.Unlock()
	v.mu.Lock()
	defer v.mu.Unlock()
	v.closed = true
	close(v.done)
	err := errors.Join(syncErr, v.dat.Close(), v.idx.Close())
	if v.compaction != nil {
		err = errors.Join(err, v.compaction.abandon(v.fs))
		v.compaction = nil
	}
	if err != nil {
		return fmt.Errorf("close volume %d: %w", v.id, err)
	}
	return nil
}

// syncAll syncs .dat and .idx now, sharing a sync in flight. wmu must be
// held, so nothing is appended meanwhile.
func (v *Volume) syncAll() error {
	v.mu.RLock()
	seq := v.writeSeq
	v.mu.RUnlock()
	return v.waitDurable(seq, true)
}

// corrupt wraps a format error so that both errors.Is(err, ErrCorrupt) and
// errors.Is(err, <format>.ErrCorrupt) hold.
func corrupt(err error) error {
	if errors.Is(err, ErrCorrupt) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrCorrupt, err)
}

// mapValue aliases the needle map's value type for brevity in signatures.
type mapValue = needlemap.Value

// entryRecordSize is the needle Size field an idx entry's record has: a
// tombstone entry points at a record with Size 0.
func entryRecordSize(e idx.Entry) uint32 {
	if e.IsDeleted() {
		return 0
	}
	return e.Size
}
