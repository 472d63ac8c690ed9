package filer

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"weedfs.dev/weed/client"
	"weedfs.dev/weed/security"
)

// Errors of the namespace, compared with errors.Is. ErrNotFound and
// ErrBadPath come from the entry and path rules (entry.go, path.go).
var (
	// ErrConflict: a file is where a folder must be, or the reverse.
	ErrConflict = errors.New("filer: file and folder conflict")
	// ErrNotEmpty: a folder with children deleted without recursive.
	ErrNotEmpty = errors.New("filer: folder is not empty")
	// ErrBadRename: a move into its own subtree, a folder over a file, or
	// the root.
	ErrBadRename = errors.New("filer: bad rename")
	// ErrMD5Mismatch: the body does not match the Content-MD5 it came with.
	ErrMD5Mismatch = errors.New("filer: content md5 mismatch")
	// ErrClosed: the filer is closed.
	ErrClosed = errors.New("filer: closed")
)

// Blobs is what the filer needs of the cluster: a *client.Client.
type Blobs interface {
	Assign(ctx context.Context, o client.AssignOptions) (*client.Assignment, error)
	Upload(ctx context.Context, server, fid string, data []byte, o client.UploadOptions) (*client.UploadResult, error)
	Open(ctx context.Context, fid string, o client.ReadOptions) (io.ReadCloser, http.Header, error)
	Delete(ctx context.Context, fid, jwt string) error
}

// Defaults of Options.
const (
	// DefaultChunkSize is the size of the chunks a body is cut into:
	// 4 MiB, SeaweedFS's default, measured best of 4, 8 and 16 MiB for a
	// 1 GiB file through HTTP on the shared 2-core test machine (load
	// average 7-8, two runs each, BenchmarkFilePutGet in filer/server):
	// PUT 280-307 / 211-245 / 210-259 MiB/s and GET 732-1218 / 472-721 /
	// 624-1305 MiB/s. Smaller chunks let reads overlap more and hold less
	// memory per request in flight.
	DefaultChunkSize = 4 << 20
	// DefaultUploadParallel chunks of one body are in flight at once.
	DefaultUploadParallel = 4
	// DefaultReadAhead chunks are fetched ahead of the one being written.
	DefaultReadAhead = 2
	// DefaultEventRetention is how long change-feed events are kept.
	DefaultEventRetention = 24 * time.Hour
	// DefaultDeleteRetry is the pause of the deletion loop after a failure.
	DefaultDeleteRetry = 5 * time.Second
)

// Options configure a Filer.
type Options struct {
	// ID names this filer among those sharing a store (its host:port): it
	// keys the records of its uploads in flight.
	ID string
	// ChunkSize is the default chunk size in bytes (DefaultChunkSize).
	ChunkSize int64
	// UploadParallel bounds the chunks of one body in flight.
	UploadParallel int
	// ReadAhead is how many chunks a read fetches ahead.
	ReadAhead int
	// SaveInsideLimit: bodies of at most this many bytes are stored inside
	// the entry instead of as a blob (SeaweedFS's -saveToFilerLimit; 0 = off).
	SaveInsideLimit int64
	// Collection, Replication, TTL are the defaults of every assign.
	Collection, Replication, DataCenter string
	// EventRetention: events older than this are dropped (DefaultEventRetention).
	EventRetention time.Duration
	// DeleteRetry is the pause after a failed deletion round.
	DeleteRetry time.Duration
	Logger      *slog.Logger
	// Now is the clock (nil: time.Now); tests of retention set it.
	Now func() time.Time
	// ManifestBatch: a file written with at least this many data chunks
	// has each run of that many stored as one manifest chunk
	// (DefaultManifestBatch, SeaweedFS's ManifestBatch).
	ManifestBatch int
	// Security holds the cluster's signing keys (security.toml): with a
	// write key the filer signs each chunk deletion it sends, with a read
	// key each chunk read, as volume servers that check tokens require.
	// Uploads carry the token the master's assign returns.
	Security security.Config
}

// Filer is a namespace over a Store and a cluster of blobs. It is safe for
// concurrent use. Run its background work with Run; Close stops it.
type Filer struct {
	store Store
	blobs Blobs
	opt   Options
	log   *slog.Logger
	keys  timeKeys
	bufs  chunkBuffers
	res   reservations
	// started is when this filer was made: upload records older than it
	// were left by a previous life.
	started time.Time
	locks   pathLocks
	// appendLocks serialise appends to one path across their upload.
	appendLocks pathLocks

	// wake nudges the deletion loop when something is queued.
	wake chan struct{}
	feed feedState

	mu      sync.Mutex
	closed  bool
	stop    chan struct{}
	running sync.WaitGroup
}

// New returns a filer over store, writing blobs through blobs.
func New(store Store, blobs Blobs, opt Options) *Filer {
	if opt.ChunkSize <= 0 {
		opt.ChunkSize = DefaultChunkSize
	}
	if opt.UploadParallel <= 0 {
		opt.UploadParallel = DefaultUploadParallel
	}
	if opt.ReadAhead <= 0 {
		opt.ReadAhead = DefaultReadAhead
	}
	if opt.ManifestBatch <= 1 {
		opt.ManifestBatch = DefaultManifestBatch
	}
	if opt.EventRetention <= 0 {
		opt.EventRetention = DefaultEventRetention
	}
	if opt.DeleteRetry <= 0 {
		opt.DeleteRetry = DefaultDeleteRetry
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.ID == "" {
		opt.ID = "filer"
	}
	f := &Filer{store: store, blobs: blobs, opt: opt, log: opt.Logger,
		wake: make(chan struct{}, 1), stop: make(chan struct{})}
	f.keys.seq.Store(rand.Uint64() >> 16)
	f.bufs.size = opt.ChunkSize
	f.res.init(f)
	f.started = opt.Now()
	f.feed.init()
	return f
}

// Store is the filer's metadata store.
func (f *Filer) Store() Store { return f.store }

// ChunkSize is the default chunk size.
func (f *Filer) ChunkSize() int64 { return f.opt.ChunkSize }

// Run recovers the uploads a previous life of this filer left half done,
// then drains the deletion queue and trims old events until ctx ends or
// Close is called.
func (f *Filer) Run(ctx context.Context) error {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return ErrClosed
	}
	f.running.Add(1)
	f.mu.Unlock()
	defer f.running.Done()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-f.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	if err := f.recoverUploads(ctx); err != nil && ctx.Err() == nil {
		f.log.Warn("recover uploads in flight", "err", err)
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); f.deletionLoop(ctx) }()
	go func() { defer wg.Done(); f.retentionLoop(ctx) }()
	wg.Wait()
	return nil
}

// Close stops the background work started by Run and waits for it. It
// does not close the store.
func (f *Filer) Close() error {
	f.mu.Lock()
	if !f.closed {
		f.closed = true
		close(f.stop)
	}
	f.mu.Unlock()
	f.running.Wait()
	f.res.closeAll()
	f.feed.close()
	return nil
}

func (f *Filer) now() time.Time { return f.opt.Now() }

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }
