package mount

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"weedfs.dev/weed/client"
)

// Durability of file data.
//
// A chunk upload is acknowledged once the volume server wrote it to its
// page cache (unless Options.Fsync). fsync(2) must make the data durable,
// so the mount remembers, per file, the volumes its chunks went to since
// the file's last fsync, and an fsync asks the servers holding those
// volumes (every replica) to sync them (POST /admin/sync), in parallel.
//
// A volume server's fsync of a volume that took a lot of data since its
// last sync writes it all out then; volumes that keep taking chunks are
// therefore also synced in the background every syncEveryBytes, so the
// disk writes overlap the uploads instead of all waiting for the fsync.

const (
	// syncEveryBytes: a volume gets a background sync after this many
	// bytes of chunks were uploaded to it since its last one.
	syncEveryBytes = 64 << 20
	// maxTrackedFiles bounds the per-file bookkeeping; past it the
	// volumes of files written later are kept in one set that every
	// fsync syncs.
	maxTrackedFiles = 4096
)

// syncFunc makes what volume vid holds durable on every server of it.
type syncFunc func(ctx context.Context, vids []uint32) error

// volumeSyncs is the bookkeeping above. Every record carries a sequence
// number, so a sync forgets only the records it covered, not those of
// uploads that ended while it ran.
//
// A file this mount has no record of (its inode was forgotten by the
// kernel and made again, or its chunks were written by an earlier mount
// process) may have chunks nobody synced: its first fsync syncs every
// volume its chunk list names. After that it is known, and fsync syncs
// only what it uploaded since.
type volumeSyncs struct {
	sync syncFunc
	ctx  context.Context // of background syncs

	mu     sync.Mutex
	seq    uint64
	byFile map[any]map[uint32]uint64 // file key -> vid -> seq of its last upload; empty: known, nothing to sync
	spill  map[uint32]uint64         // vids of files past maxTrackedFiles
	// Per volume: bytes since its last background sync, and whether one
	// runs.
	unsynced map[uint32]int64
	running  map[uint32]bool
	bg       sync.WaitGroup
}

func newVolumeSyncs(ctx context.Context, f syncFunc) *volumeSyncs {
	return &volumeSyncs{sync: f, ctx: ctx, byFile: map[any]map[uint32]uint64{},
		spill: map[uint32]uint64{}, unsynced: map[uint32]int64{}, running: map[uint32]bool{}}
}

// track returns the record set of file key, making one when there is
// room (known files with nothing to sync give theirs up first); nil when
// there is none. s.mu is held.
func (s *volumeSyncs) track(key any) map[uint32]uint64 {
	if key == nil {
		return nil
	}
	if set := s.byFile[key]; set != nil {
		return set
	}
	if len(s.byFile) >= maxTrackedFiles {
		for k, set := range s.byFile {
			if len(set) == 0 {
				delete(s.byFile, k)
			}
		}
	}
	if len(s.byFile) >= maxTrackedFiles {
		return nil
	}
	set := map[uint32]uint64{}
	s.byFile[key] = set
	return set
}

// uploaded records size bytes of file key stored on volume vid.
func (s *volumeSyncs) uploaded(key any, vid uint32, size int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	set := s.track(key)
	if set == nil {
		set = s.spill
	}
	set[vid] = s.seq
	s.unsynced[vid] += size
	if s.unsynced[vid] >= syncEveryBytes && !s.running[vid] {
		s.unsynced[vid] = 0
		s.running[vid] = true
		s.bg.Add(1)
		go s.background(vid, s.seq)
	}
}

// background syncs vid and then forgets what the sync covered.
func (s *volumeSyncs) background(vid uint32, upTo uint64) {
	defer s.bg.Done()
	err := s.sync(s.ctx, []uint32{vid})
	s.mu.Lock()
	defer s.mu.Unlock()
	s.running[vid] = false
	if err != nil {
		return // the next fsync syncs it
	}
	for _, set := range s.byFile {
		s.forget(set, vid, upTo)
	}
	s.forget(s.spill, vid, upTo)
}

func (s *volumeSyncs) forget(set map[uint32]uint64, vid uint32, upTo uint64) {
	if seq, ok := set[vid]; ok && seq <= upTo {
		delete(set, vid)
	}
}

// syncFile makes durable every chunk of file key uploaded so far (and
// those in the spill set); for a file it has no record of, every volume
// chunkVolumes (the volumes of the file's chunk list) returns. The
// caller waited for the file's uploads.
func (s *volumeSyncs) syncFile(ctx context.Context, key any, chunkVolumes func() []uint32) error {
	s.mu.Lock()
	upTo := s.seq
	var vids []uint32
	seen := map[uint32]bool{}
	add := func(vid uint32) {
		if !seen[vid] {
			seen[vid] = true
			vids = append(vids, vid)
		}
	}
	set, known := s.byFile[key]
	for vid := range set {
		add(vid)
	}
	for vid := range s.spill {
		add(vid)
	}
	s.mu.Unlock()
	if !known {
		for _, vid := range chunkVolumes() {
			add(vid)
		}
	}
	if len(vids) > 0 {
		if err := s.sync(ctx, vids); err != nil {
			return err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if set := s.track(key); set != nil {
		for _, vid := range vids {
			s.forget(set, vid, upTo)
		}
	}
	for _, vid := range vids {
		s.forget(s.spill, vid, upTo)
	}
	return nil
}

// wait returns once the background syncs started so far ended.
func (s *volumeSyncs) wait() { s.bg.Wait() }

// syncVolumes asks every server holding one of vids to sync them, one
// request per server, all at once. A server that does not hold a volume
// (it moved since the locations were cached) makes it look them up again
// and try once more.
func (fsys *FS) syncVolumes(ctx context.Context, vids []uint32) error {
	ctx, cancel := context.WithTimeout(ctx, fsys.opt.IOTimeout)
	defer cancel()
	err := fsys.syncVolumesOnce(ctx, vids)
	if errors.Is(err, client.ErrNotFound) {
		for _, vid := range vids {
			fsys.blobs.Invalidate(vid)
		}
		err = fsys.syncVolumesOnce(ctx, vids)
	}
	return err
}

func (fsys *FS) syncVolumesOnce(ctx context.Context, vids []uint32) error {
	byServer := map[string][]uint32{}
	for _, vid := range vids {
		locs, err := fsys.blobs.Lookup(ctx, vid)
		if err != nil {
			return fmt.Errorf("sync volume %d: %w", vid, err)
		}
		if len(locs) == 0 {
			return fmt.Errorf("sync volume %d: no server holds it", vid)
		}
		for _, l := range locs {
			byServer[l.URL] = append(byServer[l.URL], vid)
		}
	}
	errs := make(chan error, len(byServer))
	for server, ids := range byServer {
		go func() { errs <- fsys.blobs.SyncVolumes(ctx, server, ids) }()
	}
	var all []error
	for range byServer {
		all = append(all, <-errs)
	}
	return errors.Join(all...)
}
