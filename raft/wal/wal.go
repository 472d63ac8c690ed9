package wal

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"

	"google.golang.org/protobuf/proto"

	"weedfs.dev/weed/raft"
	"weedfs.dev/weed/raft/raftpb"
)

// Defaults of Options.
const (
	DefaultSegmentSize = 64 << 20
	DefaultCacheBytes  = 16 << 20
)

// ErrClosed is returned by every method after Close.
var ErrClosed = errors.New("wal: closed")

// Options tune a WAL; the zero value gives the defaults.
type Options struct {
	// SegmentSize: a new segment is started once the current one holds this
	// many bytes (a segment may exceed it by one Append).
	SegmentSize int64
	// CacheBytes: encoded bytes of the newest entries kept decoded in memory.
	CacheBytes int64
	Logger     *slog.Logger
}

// Stats counts what the WAL did since Open.
type Stats struct {
	Writes   uint64 // record batches written (one per Append, SaveHardState...)
	Syncs    uint64 // fsyncs of segment files
	Segments int    // segment files now
}

// WAL is a segmented write-ahead log: a raft.LogStore and raft.StableStore.
// Its methods are safe for concurrent use.
type WAL struct {
	dir         string
	segmentSize int64
	log         *slog.Logger
	syncFile    func(*os.File) error // the fsync; tests replace it to count or stall

	mu   sync.Mutex
	cond *sync.Cond // on mu: a sync finished
	segs []*segment // in name order; the last is written
	mem  memLog
	hs   *raftpb.HardState
	// Group commit. Invariant: synced <= written; every batch numbered
	// <= synced is durable.
	written, synced uint64
	syncing         bool  // a caller is fsyncing outside mu
	err             error // sticky: a write or sync failed, or closed
	stats           Stats
}

var (
	_ raft.LogStore    = (*WAL)(nil)
	_ raft.StableStore = (*WAL)(nil)
)

// Open opens the WAL in dir, creating it if needed, and replays it.
func Open(dir string, opts Options) (*WAL, error) {
	return open(dir, opts, func(f *os.File) error { return f.Sync() })
}

func open(dir string, opts Options, syncFile func(*os.File) error) (*WAL, error) {
	if opts.SegmentSize <= 0 {
		opts.SegmentSize = DefaultSegmentSize
	}
	if opts.CacheBytes <= 0 {
		opts.CacheBytes = DefaultCacheBytes
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if err := makeDir(dir); err != nil {
		return nil, err
	}
	w := &WAL{
		dir:         dir,
		segmentSize: opts.SegmentSize,
		log:         opts.Logger,
		syncFile:    syncFile,
		hs:          &raftpb.HardState{},
	}
	w.cond = sync.NewCond(&w.mu)
	w.mem.cacheLimit = opts.CacheBytes
	names, err := listSegments(dir)
	if err != nil {
		return nil, err
	}
	if err := w.replay(names); err != nil {
		w.closeFiles()
		return nil, err
	}
	if len(w.segs) == 0 {
		seg, err := createSegment(dir, w.mem.mark.index+1, w.header(), w.countedSync)
		if err != nil {
			return nil, err
		}
		w.segs = append(w.segs, seg)
	}
	return w, nil
}

// header is what starts every new segment: the log start and the HardState,
// so that deleting older segments loses neither.
func (w *WAL) header() []byte {
	b := appendRecord(nil, recordCompact, encodeMark(w.mem.mark))
	if !proto.Equal(w.hs, &raftpb.HardState{}) {
		p, _ := proto.Marshal(w.hs) // a HardState of three integers always marshals
		b = appendRecord(b, recordHardState, p)
	}
	return b
}

func (w *WAL) countedSync(f *os.File) error {
	w.stats.Syncs++
	return w.syncFile(f)
}

// Close releases the files. Everything acknowledged is already durable.
func (w *WAL) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.waitIdle()
	if errors.Is(w.err, ErrClosed) {
		return nil
	}
	w.err = ErrClosed
	w.cond.Broadcast() // waiters return ErrClosed
	return w.closeFiles()
}

func (w *WAL) closeFiles() error {
	var first error
	for _, s := range w.segs {
		if err := s.f.Close(); err != nil && first == nil {
			first = fmt.Errorf("wal: close %s: %w", s.path, err)
		}
	}
	w.segs = nil
	return first
}

// waitIdle waits, with mu held, until no fsync runs outside mu, so files
// can be closed or removed.
func (w *WAL) waitIdle() {
	for w.syncing {
		w.cond.Wait()
	}
}

// Stats reports counters since Open.
func (w *WAL) Stats() Stats {
	w.mu.Lock()
	defer w.mu.Unlock()
	s := w.stats
	s.Segments = len(w.segs)
	return s
}
