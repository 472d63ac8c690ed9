package embedded

import (
	"context"
	"fmt"
	"sync"

	"github.com/cockroachdb/pebble/v2"

	"weedfs.dev/weed/filer"
)

// A transaction is a Pebble indexed batch: its writes stay in memory, its
// reads see them over the database, and CommitTx applies them atomically
// with one WAL sync. Transactions do not block each other or plain calls
// (no lock is held while the caller works); they are not isolated from
// each other either: the last commit wins, so callers that read, decide
// and write must hold their own lock on the paths involved (the filer's
// path locks do).
type tx struct {
	mu    sync.Mutex    // the caller may use the ctx from several goroutines
	batch *pebble.Batch // nil once committed or rolled back
}

type txKey struct{}

func txFrom(ctx context.Context) *tx {
	t, _ := ctx.Value(txKey{}).(*tx)
	return t
}

// BeginTx implements filer.Store.
func (s *Store) BeginTx(ctx context.Context) (context.Context, error) {
	if txFrom(ctx) != nil {
		return nil, fmt.Errorf("embedded: begin inside a transaction: %w", filer.ErrTx)
	}
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.mu.RUnlock()
	return context.WithValue(ctx, txKey{}, &tx{batch: s.db.NewIndexedBatch()}), nil
}

// CommitTx implements filer.Store.
func (s *Store) CommitTx(ctx context.Context) error {
	return s.endTx(ctx, true)
}

// RollbackTx implements filer.Store.
func (s *Store) RollbackTx(ctx context.Context) error {
	return s.endTx(ctx, false)
}

func (s *Store) endTx(ctx context.Context, commit bool) error {
	t := txFrom(ctx)
	if t == nil {
		return fmt.Errorf("embedded: no transaction: %w", filer.ErrTx)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.batch == nil {
		return fmt.Errorf("embedded: transaction already ended: %w", filer.ErrTx)
	}
	b := t.batch
	t.batch = nil
	if err := s.enter(); err != nil {
		return err // the batch dies with the closed database
	}
	defer s.mu.RUnlock()
	defer b.Close()
	if !commit {
		return nil
	}
	if err := b.Commit(writeOptions(ctx)); err != nil {
		return fmt.Errorf("embedded: commit: %w", err)
	}
	return nil
}
