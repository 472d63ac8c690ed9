package redis

import (
	"context"
	"errors"
	"fmt"

	goredis "github.com/redis/go-redis/v9"

	"weedfs.dev/weed/filer"
)

// DefaultPrefix starts every key when Options.Prefix is empty.
const DefaultPrefix = "weed:"

// Options of a Store.
type Options struct {
	// Prefix starts every key the store owns; filers sharing a
	// namespace use the same one.
	Prefix   string
	Password string
	DB       int
	// PoolSize caps connections (0: go-redis's default).
	PoolSize int
}

// Store is the Redis filer.Store.
type Store struct {
	rdb    *goredis.Client
	prefix string
}

var _ filer.Store = (*Store)(nil)

// Open connects to Redis at addr ("host:port") and checks it answers.
func Open(ctx context.Context, addr string, opts Options) (*Store, error) {
	if opts.Prefix == "" {
		opts.Prefix = DefaultPrefix
	}
	rdb := goredis.NewClient(&goredis.Options{
		Addr:     addr,
		Password: opts.Password,
		DB:       opts.DB,
		PoolSize: opts.PoolSize,
	})
	if err := rdb.Ping(ctx).Err(); err != nil {
		rdb.Close()
		return nil, fmt.Errorf("redis: connect %s: %w", addr, mapErr(err))
	}
	return &Store{rdb: rdb, prefix: opts.Prefix}, nil
}

// Name implements filer.Store.
func (s *Store) Name() string { return "redis" }

// Close implements filer.Store.
func (s *Store) Close() error {
	if err := s.rdb.Close(); err != nil && !errors.Is(err, goredis.ErrClosed) {
		return fmt.Errorf("redis: close: %w", err)
	}
	return nil
}

func (s *Store) entryKey(path string) string { return s.prefix + "e:" + path }
func (s *Store) dirKey(dir string) string    { return s.prefix + "c:" + dir }
func (s *Store) kvKey(key []byte) string     { return s.prefix + "k:" + string(key) }
func (s *Store) kvIndex() string             { return s.prefix + "ki" }

// mapErr marks errors that are not Redis's answer (so the connection or
// the client failed) as filer.ErrUnavailable. goredis.Nil (no such key)
// and context errors stay as they are.
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	var replyErr goredis.Error
	if errors.Is(err, filer.ErrUnavailable) || errors.Is(err, goredis.Nil) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if errors.As(err, &replyErr) && !errors.Is(err, goredis.ErrClosed) {
		return err
	}
	return fmt.Errorf("%w: %w", filer.ErrUnavailable, err)
}
