package storage

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"weedfs.dev/weed/storage/needle"
	"weedfs.dev/weed/storage/superblock"
	"weedfs.dev/weed/storage/vfs"
)

// DefaultMaxVolumes is the volume count of a DiskLocation that sets none,
// SeaweedFS's -max default.
const DefaultMaxVolumes = 8

// ErrNoFreeSlot is returned by AllocateVolume when every folder is full.
var ErrNoFreeSlot = errors.New("storage: no free volume slot")

// DiskLocation is one data folder and how many volumes it may hold.
type DiskLocation struct {
	Dir        string
	MaxVolumes int // 0 means DefaultMaxVolumes
}

// LocationStatus reports a folder's use, for heartbeats and /status.
type LocationStatus struct {
	Dir        string
	MaxVolumes int
	Volumes    int
	FreeSlots  int
}

// StoreOptions are the defaults every volume of a store is opened with.
type StoreOptions struct {
	// Fsync makes every write durable before it returns (server -fsync).
	Fsync bool
	// SizeLimit bounds each volume's .dat; 0 means idx.MaxVolumeSize.
	SizeLimit int64
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// CompactBytesPerSecond throttles compactions; 0 means no limit.
	CompactBytesPerSecond int64
}

// Store is the set of volumes on a server's data folders. Volume ids are
// unique within a store. It is safe for concurrent use.
type Store struct {
	fs     vfs.FS
	logger *slog.Logger
	opts   StoreOptions

	mu      sync.RWMutex
	locs    []*location
	volumes map[uint32]*Volume
	where   map[uint32]*location
	// pending holds ids being created; their slot is already counted.
	pending map[uint32]bool
	closed  bool
}

type location struct {
	DiskLocation
	count int
}

// loadParallelism is how many volumes OpenStore opens at once: loading a
// large .idx is mostly reading, and a server may hold hundreds of volumes.
const loadParallelism = 4

// OpenStore opens every volume found in the folders (creating missing
// folders), several at a time. A volume that fails to open, or whose id an
// earlier folder already holds, is logged and left out rather than keeping
// the server down.
func OpenStore(ctx context.Context, fsys vfs.FS, locations []DiskLocation, logger *slog.Logger, opts StoreOptions) (*Store, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Store{fs: fsys, logger: logger, opts: opts, volumes: map[uint32]*Volume{}, where: map[uint32]*location{}, pending: map[uint32]bool{}}
	var found []volumeFile
	claimed := map[uint32]*location{}
	for _, dl := range locations {
		if dl.MaxVolumes <= 0 {
			dl.MaxVolumes = DefaultMaxVolumes
		}
		if err := fsys.MkdirAll(dl.Dir, 0o755); err != nil {
			return nil, fmt.Errorf("open store: %w", err)
		}
		loc := &location{DiskLocation: dl}
		s.locs = append(s.locs, loc)
		vfiles, err := s.scan(loc, claimed)
		if err != nil {
			return nil, fmt.Errorf("open store: %w", err)
		}
		found = append(found, vfiles...)
	}
	if err := s.openAll(ctx, found); err != nil {
		s.Close()
		return nil, fmt.Errorf("open store: %w", err)
	}
	return s, nil
}

// volumeFile is a volume found in a folder.
type volumeFile struct {
	loc        *location
	collection string
	id         uint32
}

// scan lists the volumes of one folder, skipping ids claimed by an earlier
// folder, and removes leftovers of interrupted transfers.
func (s *Store) scan(loc *location, claimed map[uint32]*location) ([]volumeFile, error) {
	entries, err := s.fs.ReadDir(loc.Dir)
	if err != nil {
		return nil, err
	}
	var out []volumeFile
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), extReceiving) {
			name := filepath.Join(loc.Dir, e.Name())
			s.logger.Warn("removing the file of an interrupted volume transfer", "file", name)
			if err := removeIfExists(s.fs, name); err != nil {
				return nil, err
			}
			continue
		}
		collection, id, ok := ParseVolumeFileName(e.Name())
		if !ok || e.IsDir() {
			continue
		}
		if other, dup := claimed[id]; dup {
			s.logger.Error("volume id held by two folders: skipping the second",
				"volume", id, "dir", loc.Dir, "kept", other.Dir)
			continue
		}
		claimed[id] = loc
		out = append(out, volumeFile{loc: loc, collection: collection, id: id})
	}
	return out, nil
}

// openAll opens the volumes found, loadParallelism at a time.
func (s *Store) openAll(ctx context.Context, found []volumeFile) error {
	var wg sync.WaitGroup
	sem := make(chan struct{}, loadParallelism)
	for _, f := range found {
		if ctx.Err() != nil {
			break
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			v, err := OpenVolume(s.fs, f.loc.Dir, f.collection, f.id, s.volumeOptions())
			if err != nil {
				s.logger.Error("volume does not open: skipping it", "volume", f.id, "dir", f.loc.Dir, "err", err)
				return
			}
			s.mu.Lock()
			s.volumes[f.id], s.where[f.id] = v, f.loc
			f.loc.count++
			s.mu.Unlock()
		}()
	}
	wg.Wait()
	return ctx.Err()
}

func (s *Store) volumeOptions() VolumeOptions {
	return VolumeOptions{Fsync: s.opts.Fsync, SizeLimit: s.opts.SizeLimit, Logger: s.logger, Now: s.opts.Now,
		CompactBytesPerSecond: s.opts.CompactBytesPerSecond}
}

// ParseVolumeFileName reads "<collection>_<id>.dat" or "<id>.dat". The id
// follows the last '_', so collection names may contain '_'.
func ParseVolumeFileName(name string) (collection string, id uint32, ok bool) {
	stem, found := strings.CutSuffix(name, extDat)
	if !found {
		return "", 0, false
	}
	idText := stem
	if i := strings.LastIndexByte(stem, '_'); i >= 0 {
		collection, idText = stem[:i], stem[i+1:]
		if collection == "" {
			return "", 0, false
		}
	}
	n, err := strconv.ParseUint(idText, 10, 32)
	if err != nil || strconv.FormatUint(n, 10) != idText {
		return "", 0, false
	}
	return collection, uint32(n), true
}

// AllocateVolume creates volume id in the folder with the most free slots.
// The store stays usable while the files are created and synced.
func (s *Store) AllocateVolume(collection string, id uint32, placement superblock.ReplicaPlacement, ttl needle.TTL) (*Volume, error) {
	loc, err := s.reserve(id)
	if err != nil {
		return nil, fmt.Errorf("allocate volume %d: %w", id, err)
	}
	opts := s.volumeOptions()
	opts.Placement, opts.TTL = placement, ttl
	v, err := CreateVolume(s.fs, loc.Dir, collection, id, opts)
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.pending, id)
	if err != nil {
		loc.count--
		return nil, fmt.Errorf("allocate volume %d: %w", id, err)
	}
	if s.closed {
		loc.count--
		return nil, errors.Join(ErrClosed, v.destroy())
	}
	s.volumes[id], s.where[id] = v, loc
	return v, nil
}

// reserve claims id and a slot in the folder with the most free slots.
func (s *Store) reserve(id uint32) (*location, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	if _, ok := s.volumes[id]; ok || s.pending[id] {
		return nil, ErrVolumeExists
	}
	var best *location
	for _, loc := range s.locs {
		if free := loc.MaxVolumes - loc.count; free > 0 && (best == nil || free > best.MaxVolumes-best.count) {
			best = loc
		}
	}
	if best == nil {
		return nil, ErrNoFreeSlot
	}
	best.count++
	s.pending[id] = true
	return best, nil
}

// DeleteVolume closes volume id and removes its files.
func (s *Store) DeleteVolume(id uint32) error {
	s.mu.Lock()
	v, ok := s.volumes[id]
	loc := s.where[id]
	if ok {
		delete(s.volumes, id)
		delete(s.where, id)
		// Keep the id (and its slot) taken until the files are gone, so
		// an allocation of the same id cannot meet them half removed.
		s.pending[id] = true
	}
	s.mu.Unlock()
	if !ok {
		return fmt.Errorf("delete volume %d: %w", id, ErrVolumeNotFound)
	}
	err := v.destroy()
	s.mu.Lock()
	delete(s.pending, id)
	loc.count--
	s.mu.Unlock()
	return err
}

// destroy closes the volume and removes its files durably.
func (v *Volume) destroy() error {
	err := v.Close()
	if errors.Is(err, ErrClosed) {
		err = nil
	}
	base := v.base()
	for _, ext := range []string{extCommit, extCompacted, extCompactIx, extVif, extIdx, extDat} {
		err = errors.Join(err, removeIfExists(v.fs, base+ext))
	}
	err = errors.Join(err, v.fs.SyncDir(v.dir))
	if err != nil {
		return fmt.Errorf("delete volume %d: %w", v.id, err)
	}
	return nil
}

// DeleteCollection deletes every volume of collection.
func (s *Store) DeleteCollection(collection string) error {
	s.mu.RLock()
	var ids []uint32
	for id, v := range s.volumes {
		if v.collection == collection {
			ids = append(ids, id)
		}
	}
	s.mu.RUnlock()
	var err error
	for _, id := range ids {
		if e := s.DeleteVolume(id); e != nil && !errors.Is(e, ErrVolumeNotFound) {
			err = errors.Join(err, e)
		}
	}
	return err
}

// MarkReadOnly refuses further writes to volume id (persisted in its .vif).
func (s *Store) MarkReadOnly(id uint32) error { return s.setReadOnly(id, true) }

// MarkWritable accepts writes to volume id again.
func (s *Store) MarkWritable(id uint32) error { return s.setReadOnly(id, false) }

func (s *Store) setReadOnly(id uint32, ro bool) error {
	v, err := s.Volume(id)
	if err != nil {
		return err
	}
	return v.SetReadOnly(ro)
}

// Volume returns volume id, or an error wrapping ErrVolumeNotFound.
func (s *Store) Volume(id uint32) (*Volume, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if v, ok := s.volumes[id]; ok {
		return v, nil
	}
	return nil, fmt.Errorf("volume %d: %w", id, ErrVolumeNotFound)
}

// Volumes returns the open volumes sorted by id.
func (s *Store) Volumes() []*Volume {
	s.mu.RLock()
	vs := make([]*Volume, 0, len(s.volumes))
	for _, v := range s.volumes {
		vs = append(vs, v)
	}
	s.mu.RUnlock()
	slices.SortFunc(vs, func(a, b *Volume) int { return cmp.Compare(a.id, b.id) })
	return vs
}

// Locations reports each folder's volume count and free slots.
func (s *Store) Locations() []LocationStatus {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]LocationStatus, len(s.locs))
	for i, loc := range s.locs {
		out[i] = LocationStatus{Dir: loc.Dir, MaxVolumes: loc.MaxVolumes, Volumes: loc.count, FreeSlots: max(loc.MaxVolumes-loc.count, 0)}
	}
	return out
}

// MaxKey returns the largest needle key of any volume, so a new master
// leader never issues a key again.
func (s *Store) MaxKey() uint64 {
	var m uint64
	for _, v := range s.Volumes() {
		m = max(m, v.Info().MaxKey)
	}
	return m
}

// Write stores n in volume vid (see Volume.Write).
func (s *Store) Write(ctx context.Context, vid uint32, n *needle.Needle, opts WriteOptions) (WriteResult, error) {
	v, err := s.Volume(vid)
	if err != nil {
		return WriteResult{}, err
	}
	return v.Write(ctx, n, opts)
}

// Read reads needle key of volume vid (see Volume.Read).
func (s *Store) Read(ctx context.Context, vid uint32, key uint64, cookie uint32, opts ReadOptions) (*needle.Needle, error) {
	v, err := s.Volume(vid)
	if err != nil {
		return nil, err
	}
	return v.Read(ctx, key, cookie, opts)
}

// Delete deletes needle key of volume vid (see Volume.Delete).
func (s *Store) Delete(ctx context.Context, vid uint32, key uint64, cookie uint32, opts DeleteOptions) (uint32, error) {
	v, err := s.Volume(vid)
	if err != nil {
		return 0, err
	}
	return v.Delete(ctx, key, cookie, opts)
}

// Close syncs and closes every volume. The store is unusable afterwards.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	vs := make([]*Volume, 0, len(s.volumes))
	for _, v := range s.volumes {
		vs = append(vs, v)
	}
	s.mu.Unlock()
	var err error
	for _, v := range vs {
		if e := v.Close(); e != nil && !errors.Is(e, ErrClosed) {
			err = errors.Join(err, e)
		}
	}
	return err
}
