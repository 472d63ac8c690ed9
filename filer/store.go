package filer

import (
	"context"
	"errors"
	"fmt"
)

// Errors of entries and stores. Stores wrap them; compare with errors.Is.
var (
	// ErrNotFound: no entry at that path, or no value under that key.
	ErrNotFound = errors.New("filer: not found")
	// ErrCorrupt: stored bytes do not decode as an entry.
	ErrCorrupt = errors.New("filer: corrupt entry")
	// ErrBadPath: a path that NormalizePath rejects.
	ErrBadPath = errors.New("filer: bad path")
	// ErrUnavailable: the store cannot be reached (connection refused or
	// lost, database closed). Callers answer 5xx and may retry later.
	ErrUnavailable = errors.New("filer: store unavailable")
	// ErrTx: a transaction call out of place (commit without begin, a
	// second begin on a context already in a transaction).
	ErrTx = errors.New("filer: transaction misuse")
)

// Store keeps entries and a small ordered key-value space. Several
// implementations live under filer/stores; all pass filer/stores/storetest.
//
// Paths given to a store are already normalised (NormalizePath); a store
// never creates parent folders or checks that a parent exists: namespace
// rules belong to the caller. Entries handed in are not retained (a store
// encodes them), and entries handed out are the caller's to change.
//
// Transactions follow SeaweedFS: BeginTx returns a context that carries the
// transaction; every call made with that context (or one derived from it)
// is part of it until CommitTx or RollbackTx on that context. Calls with
// other contexts do not see its writes before the commit. Inside a
// transaction, FindEntry and KvGet see the transaction's own writes; with
// the redis store, listings and scans do not (see its doc). WithTx wraps
// the three calls. Isolation between concurrent transactions differs:
// postgres gives PostgreSQL's read committed; embedded and redis give
// none (each commit applies atomically, the last one wins), so callers
// that read, decide and write must lock the paths involved.
type Store interface {
	// Name is the store's kind, e.g. "embedded", "postgres", "redis".
	Name() string

	// InsertEntry creates the entry at e.FullPath or replaces it.
	InsertEntry(ctx context.Context, e *Entry) error
	// UpdateEntry replaces an existing entry; ErrNotFound if there is none.
	UpdateEntry(ctx context.Context, e *Entry) error
	// FindEntry returns the entry at path or ErrNotFound.
	FindEntry(ctx context.Context, path string) (*Entry, error)
	// DeleteEntry removes the entry at path (not its children); a missing
	// entry is not an error.
	DeleteEntry(ctx context.Context, path string) error
	// DeleteFolderChildren removes every descendant of dir at any depth,
	// but not dir itself, and nothing whose path merely shares dir's
	// prefix ("/a/bc" survives DeleteFolderChildren("/a/b")). It relies
	// on the caller's tree being whole: an entry below a folder that has
	// no entry of its own may survive (redis walks down through the
	// names of existing entries).
	DeleteFolderChildren(ctx context.Context, dir string) error
	// ListDirectory calls fn for the children of dir in byte order of
	// their names, starting after startName (at it when inclusive; ""
	// starts at the first child), only names starting with prefix, at
	// most limit of them (limit <= 0 means no limit), until fn returns
	// false. It returns the name of the last entry passed to fn ("" when
	// none). Stores read in pages and call fn with nothing held, so fn
	// may call the store again, also with the same (transaction) ctx;
	// whether fn's own changes to not yet listed names show is unspecified.
	ListDirectory(ctx context.Context, dir, startName string, inclusive bool, prefix string, limit int, fn func(*Entry) bool) (last string, err error)

	// BeginTx starts a transaction carried by the returned context.
	BeginTx(ctx context.Context) (context.Context, error)
	// CommitTx commits the transaction ctx carries (ErrTx if none).
	CommitTx(ctx context.Context) error
	// RollbackTx abandons the transaction ctx carries (ErrTx if none).
	RollbackTx(ctx context.Context) error

	// KvPut stores value under key, replacing any value.
	KvPut(ctx context.Context, key, value []byte) error
	// KvGet returns the value under key or ErrNotFound.
	KvGet(ctx context.Context, key []byte) ([]byte, error)
	// KvDelete removes key; a missing key is not an error.
	KvDelete(ctx context.Context, key []byte) error
	// KvScan calls fn for each key starting with prefix and not below
	// start (nil start: from the first such key), in byte order of keys,
	// at most limit of them (limit <= 0 means no limit), until fn returns
	// false. fn may keep neither slice after it returns.
	KvScan(ctx context.Context, prefix, start []byte, limit int, fn func(key, value []byte) bool) error

	// Close releases the store; no call may follow.
	Close() error
}

// KvKeyScanner is a Store that can list keys without reading their
// values. The change feed uses it, when the store has it, to look for new
// events without copying the events it already has.
type KvKeyScanner interface {
	// KvScanKeys is KvScan without the values.
	KvScanKeys(ctx context.Context, prefix, start []byte, limit int, fn func(key []byte) bool) error
}

// WithTx runs fn in a transaction of s: it commits when fn returns nil and
// rolls back when fn fails or panics (the panic goes on).
func WithTx(ctx context.Context, s Store, fn func(ctx context.Context) error) (err error) {
	txCtx, err := s.BeginTx(ctx)
	if err != nil {
		return err
	}
	committed := false
	defer func() {
		if !committed {
			if rbErr := s.RollbackTx(txCtx); rbErr != nil && err != nil {
				err = fmt.Errorf("%w (rollback: %v)", err, rbErr)
			}
		}
	}()
	if err = fn(txCtx); err != nil {
		return err
	}
	committed = true
	return s.CommitTx(txCtx)
}
