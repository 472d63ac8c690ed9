package postgres

import (
	"context"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5"

	"weedfs.dev/weed/filer"
)

// tx is a database transaction carried by a context. A pgx.Tx runs one
// statement at a time, so calls on it take mu.
type tx struct {
	mu sync.Mutex
	tx pgx.Tx // nil once committed or rolled back
}

type txKey struct{}

func txFrom(ctx context.Context) *tx {
	t, _ := ctx.Value(txKey{}).(*tx)
	return t
}

// BeginTx implements filer.Store.
func (s *Store) BeginTx(ctx context.Context) (context.Context, error) {
	if txFrom(ctx) != nil {
		return nil, fmt.Errorf("postgres: begin inside a transaction: %w", filer.ErrTx)
	}
	t, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("postgres: begin: %w", mapErr(err))
	}
	if !filer.SyncWanted(ctx) {
		// The commit returns before its WAL record is flushed; a later
		// synchronous commit flushes it (PostgreSQL's asynchronous commit).
		if _, err := t.Exec(ctx, "SET LOCAL synchronous_commit = off"); err != nil {
			_ = t.Rollback(context.WithoutCancel(ctx))
			return nil, fmt.Errorf("postgres: begin: %w", mapErr(err))
		}
	}
	return context.WithValue(ctx, txKey{}, &tx{tx: t}), nil
}

// CommitTx implements filer.Store.
func (s *Store) CommitTx(ctx context.Context) error { return s.endTx(ctx, true) }

// RollbackTx implements filer.Store.
func (s *Store) RollbackTx(ctx context.Context) error { return s.endTx(ctx, false) }

func (s *Store) endTx(ctx context.Context, commit bool) error {
	t := txFrom(ctx)
	if t == nil {
		return fmt.Errorf("postgres: no transaction: %w", filer.ErrTx)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.tx == nil {
		return fmt.Errorf("postgres: transaction already ended: %w", filer.ErrTx)
	}
	pt := t.tx
	t.tx = nil
	// The transaction must end even when the caller's ctx is done, or
	// its connection stays busy; pgx closes the connection in that case.
	end := context.WithoutCancel(ctx)
	if commit {
		if err := pt.Commit(end); err != nil {
			return fmt.Errorf("postgres: commit: %w", mapErr(err))
		}
		return nil
	}
	if err := pt.Rollback(end); err != nil {
		return fmt.Errorf("postgres: rollback: %w", mapErr(err))
	}
	return nil
}
