package postgres

import (
	"context"
	"errors"
	"fmt"
	"regexp"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"weedfs.dev/weed/filer"
)

// DefaultTable is the entries table's name when Options.Table is empty.
const DefaultTable = "weed_filemeta"

// DefaultMaxConns is the pool size when Options.MaxConns is 0. pgxpool's
// own default (4 on a 2-core machine) leaves concurrent creates queueing
// for a connection instead of sharing PostgreSQL's WAL flushes.
const DefaultMaxConns = 16

// Options of a Store.
type Options struct {
	// Table names the entries table; the KV table is Table+"_kv". Filers
	// sharing a namespace use the same name.
	Table string
	// MaxConns caps the pool's connections (0: DefaultMaxConns).
	MaxConns int32
}

// tableName is what a table name may be: it goes into SQL text unquoted.
var tableName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,59}$`)

// Store is the PostgreSQL filer.Store.
type Store struct {
	pool    *pgxpool.Pool
	entries string
	kv      string
}

var _ filer.Store = (*Store)(nil)

// Open connects to the database at url (a libpq URL or key=value string)
// and creates the tables when missing.
func Open(ctx context.Context, url string, opts Options) (*Store, error) {
	if opts.Table == "" {
		opts.Table = DefaultTable
	}
	if !tableName.MatchString(opts.Table) {
		return nil, fmt.Errorf("postgres: table name %q: want lower-case letters, digits and _", opts.Table)
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: parse url: %w", err)
	}
	if opts.MaxConns <= 0 {
		opts.MaxConns = DefaultMaxConns
	}
	cfg.MaxConns = opts.MaxConns
	cfg.AfterConnect = tuneSession
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: connect: %v: %w", err, filer.ErrUnavailable)
	}
	s := &Store{pool: pool, entries: opts.Table, kv: opts.Table + "_kv"}
	if err := s.createTables(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

func (s *Store) createTables(ctx context.Context) error {
	stmts := []string{
		`CREATE TABLE IF NOT EXISTS ` + s.entries + ` (
			dir  bytea NOT NULL,
			name bytea NOT NULL,
			meta bytea NOT NULL,
			PRIMARY KEY (dir, name))`,
		`CREATE TABLE IF NOT EXISTS ` + s.kv + ` (
			k bytea PRIMARY KEY,
			v bytea NOT NULL)`,
	}
	for _, q := range stmts {
		if _, err := s.pool.Exec(ctx, q); err != nil {
			var pgErr *pgconn.PgError
			// Two filers starting at once may race to create the same
			// table: the loser sees a unique violation on the catalog
			// (23505), duplicate_table (42P07) or, for the table's row
			// type, duplicate_object (42710), once the winner committed.
			if errors.As(err, &pgErr) && (pgErr.Code == "23505" || pgErr.Code == "42P07" || pgErr.Code == "42710") {
				continue
			}
			return fmt.Errorf("postgres: create tables: %w", mapErr(err))
		}
	}
	return nil
}

// tuneSession turns bitmap scans off on each connection. Until a table's
// statistics are gathered (autovacuum, up to a minute after a bulk load)
// the planner guesses a folder holds a few rows and answers a page of a
// listing with a bitmap scan of the whole folder plus a sort (54 ms a
// page for 100,000 entries instead of 0.3 ms); without bitmap scans it
// walks the primary key in order and stops at the limit. Databases that
// do not know the setting (CockroachDB) are left as they are.
func tuneSession(ctx context.Context, conn *pgx.Conn) error {
	_, _ = conn.Exec(ctx, "SET enable_bitmapscan = off")
	return nil
}

// Name implements filer.Store.
func (s *Store) Name() string { return "postgres" }

// Close implements filer.Store.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// querier is what both the pool and a transaction run statements on.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// with runs fn on ctx's transaction (holding it, as a pgx.Tx serves one
// statement at a time) or on the pool.
func (s *Store) with(ctx context.Context, fn func(q querier) error) error {
	t := txFrom(ctx)
	if t == nil {
		return fn(s.pool)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.tx == nil {
		return fmt.Errorf("postgres: transaction already ended: %w", filer.ErrTx)
	}
	return fn(t.tx)
}

// mapErr marks errors that are not the server's answer (so the connection
// or the pool failed) as filer.ErrUnavailable. Context errors stay as they
// are: the caller gave up, the store did not fail.
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	var pgErr *pgconn.PgError
	if errors.Is(err, filer.ErrUnavailable) || errors.As(err, &pgErr) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, pgx.ErrNoRows) || errors.Is(err, pgx.ErrTxClosed) {
		return err
	}
	return fmt.Errorf("%w: %w", filer.ErrUnavailable, err)
}
