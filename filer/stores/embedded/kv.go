package embedded

import (
	"bytes"
	"context"
	"fmt"

	"github.com/cockroachdb/pebble/v2"

	"weedfs.dev/weed/filer"
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

// KvScan implements filer.Store, reading pageSize pairs at a time.
func (s *Store) KvScan(ctx context.Context, prefix, start []byte, limit int, fn func(key, value []byte) bool) error {
	return s.kvScan(ctx, prefix, start, limit, true, fn)
}

// KvScanKeys implements filer.KvKeyScanner: KvScan without copying the
// values out (the change feed looks at keys it mostly has seen).
func (s *Store) KvScanKeys(ctx context.Context, prefix, start []byte, limit int, fn func(key []byte) bool) error {
	return s.kvScan(ctx, prefix, start, limit, false, func(k, _ []byte) bool { return fn(k) })
}

var _ filer.KvKeyScanner = (*Store)(nil)

// kvScan is KvScan, with nil values unless withValues.
func (s *Store) kvScan(ctx context.Context, prefix, start []byte, limit int, withValues bool, fn func(key, value []byte) bool) error {
	if bytes.Compare(start, prefix) < 0 {
		start = prefix
	}
	for n := 0; limit <= 0 || n < limit; {
		want := pageSize
		if limit > 0 {
			want = min(want, limit-n)
		}
		keys, vals, err := s.kvPage(ctx, prefix, start, want, withValues)
		if err != nil {
			return err
		}
		for i := range keys {
			n++
			var v []byte
			if withValues {
				v = vals[i]
			}
			if !fn(keys[i], v) {
				return nil
			}
		}
		if len(keys) < want {
			return nil
		}
		// The next page starts at the smallest key above the last one.
		start = append(keys[len(keys)-1], 0)
	}
	return nil
}

// kvPage reads up to n pairs with keys starting with prefix, from start
// (vals is nil unless withValues).
func (s *Store) kvPage(ctx context.Context, prefix, start []byte, n int, withValues bool) (keys, vals [][]byte, err error) {
	lower := kvKey(prefix)
	opts := &pebble.IterOptions{LowerBound: lower, UpperBound: prefixEnd(lower)}
	err = s.read(ctx, func(r reader) error {
		it, err := r.NewIter(opts)
		if err != nil {
			return fmt.Errorf("embedded: kv scan: %w", err)
		}
		defer it.Close()
		for ok := it.SeekGE(kvKey(start)); ok && len(keys) < n; ok = it.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			keys = append(keys, append([]byte(nil), it.Key()[1:]...))
			if !withValues {
				continue
			}
			val, err := it.ValueAndErr()
			if err != nil {
				return fmt.Errorf("embedded: kv scan: %w", err)
			}
			vals = append(vals, append([]byte(nil), val...))
		}
		if err := it.Error(); err != nil {
			return fmt.Errorf("embedded: kv scan: %w", err)
		}
		return nil
	})
	return keys, vals, err
}
