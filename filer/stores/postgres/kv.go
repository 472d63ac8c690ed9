package postgres

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"weedfs.dev/weed/filer"
)

// KvPut implements filer.Store.
func (s *Store) KvPut(ctx context.Context, key, value []byte) error {
	if value == nil {
		value = []byte{}
	}
	return s.with(ctx, func(q querier) error {
		_, err := q.Exec(ctx, `INSERT INTO `+s.kv+` (k, v) VALUES ($1, $2)
			ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v`, nonNil(key), value)
		if err != nil {
			return fmt.Errorf("postgres: kv put: %w", mapErr(err))
		}
		return nil
	})
}

// KvGet implements filer.Store.
func (s *Store) KvGet(ctx context.Context, key []byte) ([]byte, error) {
	var v []byte
	err := s.with(ctx, func(q querier) error {
		return q.QueryRow(ctx, `SELECT v FROM `+s.kv+` WHERE k = $1`, nonNil(key)).Scan(&v)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("postgres: kv get: %w", filer.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: kv get: %w", mapErr(err))
	}
	if v == nil {
		v = []byte{}
	}
	return v, nil
}

// KvDelete implements filer.Store.
func (s *Store) KvDelete(ctx context.Context, key []byte) error {
	return s.with(ctx, func(q querier) error {
		if _, err := q.Exec(ctx, `DELETE FROM `+s.kv+` WHERE k = $1`, nonNil(key)); err != nil {
			return fmt.Errorf("postgres: kv delete: %w", mapErr(err))
		}
		return nil
	})
}

// KvScan implements filer.Store, fetching pageSize rows per statement.
func (s *Store) KvScan(ctx context.Context, prefix, start []byte, limit int, fn func(key, value []byte) bool) error {
	if bytes.Compare(start, prefix) < 0 {
		start = prefix
	}
	for n := 0; limit <= 0 || n < limit; {
		want := pageSize
		if limit > 0 {
			want = min(want, limit-n)
		}
		keys, vals, err := s.kvPage(ctx, prefix, start, want)
		if err != nil {
			return err
		}
		for i := range keys {
			n++
			if !fn(keys[i], vals[i]) {
				return nil
			}
		}
		if len(keys) < want {
			return nil
		}
		start = append(keys[len(keys)-1], 0) // the smallest key above the last
	}
	return nil
}

func (s *Store) kvPage(ctx context.Context, prefix, start []byte, n int) (keys, vals [][]byte, err error) {
	q := `SELECT k, v FROM ` + s.kv + ` WHERE k >= $1`
	args := []any{nonNil(start)}
	if end := prefixEnd(prefix); end != nil {
		q += ` AND k < $2`
		args = append(args, end)
	}
	q += fmt.Sprintf(` ORDER BY k LIMIT %d`, n)
	err = s.with(ctx, func(qr querier) error {
		rows, err := qr.Query(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var k, v []byte
			if err := rows.Scan(&k, &v); err != nil {
				return err
			}
			keys, vals = append(keys, k), append(vals, v)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, nil, fmt.Errorf("postgres: kv scan: %w", mapErr(err))
	}
	return keys, vals, nil
}

// nonNil turns a nil key into an empty one: pgx sends nil as NULL.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
