package embedded

import (
	"bytes"
	"context"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// KvPut implements filer.Store.
func (s *Store) KvPut(ctx context.Context, key, value []byte) error {
	return s.write(ctx, func(w writer, _ reader) error {
		return w.Set(kvKey(key), value, nil)
	})
}

// KvGet implements filer.Store.
func (s *Store) KvGet(ctx context.Context, key []byte) ([]byte, error) {
	var val []byte
	err := s.read(ctx, func(r reader) error {
		var err error
		val, err = get(r, kvKey(key))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("embedded: kv get: %w", err)
	}
	return val, nil
}

// KvDelete implements filer.Store.
func (s *Store) KvDelete(ctx context.Context, key []byte) error {
	return s.write(ctx, func(w writer, _ reader) error {
		return w.Delete(kvKey(key), nil)
	})
}

// KvScan implements filer.Store.
func (s *Store) KvScan(ctx context.Context, prefix, start []byte, limit int, fn func(key, value []byte) bool) error {
	lower := kvKey(prefix)
	seek := lower
	if bytes.Compare(start, prefix) > 0 {
		seek = kvKey(start)
	}
	opts := &pebble.IterOptions{LowerBound: lower, UpperBound: prefixEnd(lower)}
	return s.read(ctx, func(r reader) error {
		it, err := r.NewIter(opts)
		if err != nil {
			return fmt.Errorf("embedded: kv scan: %w", err)
		}
		defer it.Close()
		for ok, n := it.SeekGE(seek), 0; ok && (limit <= 0 || n < limit); ok, n = it.Next(), n+1 {
			if err := ctx.Err(); err != nil {
				return err
			}
			val, err := it.ValueAndErr()
			if err != nil {
				return fmt.Errorf("embedded: kv scan: %w", err)
			}
			if !fn(it.Key()[1:], val) {
				break
			}
		}
		if err := it.Error(); err != nil {
			return fmt.Errorf("embedded: kv scan: %w", err)
		}
		return nil
	})
}
