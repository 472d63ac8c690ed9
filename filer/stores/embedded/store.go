package embedded

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	"github.com/cockroachdb/pebble/v2/sstable"
	"github.com/cockroachdb/pebble/v2/vfs"

	"weedfs.dev/weed/filer"
)

// Store is the embedded filer.Store: one Pebble database in a folder.
type Store struct {
	db  *pebble.DB
	log *slog.Logger

	// mu guards closed: Pebble panics when used after Close, so every
	// call holds mu for reading and Close takes it for writing.
	mu     sync.RWMutex
	closed bool
}

// Open opens (creating if needed) the store in dir. A nil logger
// discards Pebble's messages.
func Open(dir string, log *slog.Logger) (*Store, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return open(dir, log, nil)
}

// open is Open on a given file system (nil: the real one); tests pass a
// crash-simulating one.
func open(dir string, log *slog.Logger, fs vfs.FS) (*Store, error) {
	opts := pebbleOptions(log)
	if fs != nil {
		opts.FS = fs
	}
	db, err := pebble.Open(dir, opts)
	if err != nil {
		return nil, fmt.Errorf("embedded: open %s: %w", dir, err)
	}
	return &Store{db: db, log: log}, nil
}

// cacheSize is Pebble's block cache: 64 MiB holds the metadata of a few
// hundred thousand entries, so hot folders list and look up from memory.
const cacheSize = 64 << 20

func pebbleOptions(log *slog.Logger) *pebble.Options {
	o := &pebble.Options{Logger: pebbleLogger{log}, CacheSize: cacheSize, MemTableSize: memTableSize}
	for i := range o.Levels {
		o.Levels[i].FilterPolicy = bloom.FilterPolicy(bloomBitsPerKey)
		// Blocks are compressed in the last level only, where data
		// settles: snappy on every flush and on each compaction on the
		// way down cost more CPU than the saves themselves.
		compress := sstable.NoCompression
		if i == len(o.Levels)-1 {
			compress = sstable.SnappyCompression
		}
		o.Levels[i].Compression = func() *sstable.CompressionProfile { return compress }
	}
	return o
}

// memTableSize is the size of one memtable.
const memTableSize = 64 << 20

// bloomBitsPerKey sizes the bloom filter of each table (1% false
// positives at 10): a lookup of a path that does not exist yet, which
// every create makes, skips the tables instead of reading a block of each.
const bloomBitsPerKey = 10

var _ filer.Store = (*Store)(nil)

// Name implements filer.Store.
func (s *Store) Name() string { return "embedded" }

// Close implements filer.Store. A transaction still open is abandoned.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("embedded: close: %w", err)
	}
	return nil
}

// enter holds the store open for one call; it fails with ErrUnavailable
// once the store is closed. The caller must call s.mu.RUnlock.
func (s *Store) enter() error {
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return fmt.Errorf("embedded: store closed: %w", filer.ErrUnavailable)
	}
	return nil
}

// reader is what reads go through: the database, or a transaction's
// indexed batch (which sees the batch's own writes over the database).
type reader interface {
	Get(key []byte) ([]byte, io.Closer, error)
	NewIter(o *pebble.IterOptions) (*pebble.Iterator, error)
}

// writer is what writes go through: a transaction's batch, or a batch of
// one call committed with a WAL sync.
type writer interface {
	Set(key, value []byte, o *pebble.WriteOptions) error
	Delete(key []byte, o *pebble.WriteOptions) error
	DeleteRange(start, end []byte, o *pebble.WriteOptions) error
}

// get returns a copy of the value under key, or ErrNotFound.
func get(r reader, key []byte) ([]byte, error) {
	v, closer, err := r.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, filer.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("embedded: get: %w", err)
	}
	out := append([]byte(nil), v...)
	if err := closer.Close(); err != nil {
		return nil, fmt.Errorf("embedded: get: %w", err)
	}
	return out, nil
}

// write applies fn to ctx's transaction, or else to a fresh batch that
// is committed with a WAL sync before write returns (unless ctx comes from
// filer.NoSync), so an acknowledged write survives a crash. Concurrent syncs share one fsync (Pebble's
// commit pipeline groups them).
func (s *Store) write(ctx context.Context, fn func(w writer, r reader) error) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.mu.RUnlock()
	if tx := txFrom(ctx); tx != nil {
		tx.mu.Lock()
		defer tx.mu.Unlock()
		if tx.batch == nil {
			return fmt.Errorf("embedded: transaction already ended: %w", filer.ErrTx)
		}
		return fn(tx.batch, tx.batch)
	}
	b := s.db.NewBatch()
	defer b.Close()
	if err := fn(b, s.db); err != nil {
		return err
	}
	if err := b.Commit(writeOptions(ctx)); err != nil {
		return fmt.Errorf("embedded: commit: %w", err)
	}
	return nil
}

// writeOptions syncs the log before a commit returns unless ctx comes
// from filer.NoSync.
func writeOptions(ctx context.Context) *pebble.WriteOptions {
	if filer.SyncWanted(ctx) {
		return pebble.Sync
	}
	return pebble.NoSync
}

// read applies fn to ctx's transaction or to the database.
func (s *Store) read(ctx context.Context, fn func(r reader) error) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.mu.RUnlock()
	if tx := txFrom(ctx); tx != nil {
		tx.mu.Lock()
		defer tx.mu.Unlock()
		if tx.batch == nil {
			return fmt.Errorf("embedded: transaction already ended: %w", filer.ErrTx)
		}
		return fn(tx.batch)
	}
	return fn(s.db)
}

// pebbleLogger sends Pebble's messages to slog. Pebble calls Fatalf only
// for damage it cannot go on from and requires that Fatalf not return;
// instead of exiting the process from a library, it logs and panics, so
// the owner of the process decides.
type pebbleLogger struct{ log *slog.Logger }

func (l pebbleLogger) Infof(format string, args ...any) {
	l.log.Info(fmt.Sprintf(format, args...), "component", "pebble")
}

func (l pebbleLogger) Errorf(format string, args ...any) {
	l.log.Error(fmt.Sprintf(format, args...), "component", "pebble")
}

func (l pebbleLogger) Fatalf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	l.log.Error(msg, "component", "pebble", "fatal", true)
	panic("embedded: pebble: " + msg)
}
