package redis

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	goredis "github.com/redis/go-redis/v9"

	"weedfs.dev/weed/filer"
)

// KvPut implements filer.Store.
func (s *Store) KvPut(ctx context.Context, key, value []byte) error {
	if t := txFrom(ctx); t != nil {
		return t.setKV(key, append([]byte{}, value...))
	}
	_, err := s.rdb.TxPipelined(ctx, func(p goredis.Pipeliner) error {
		s.queueKVSet(ctx, p, key, value)
		return nil
	})
	if err != nil {
		return fmt.Errorf("redis: kv put: %w", mapErr(err))
	}
	return nil
}

func (s *Store) queueKVSet(ctx context.Context, p goredis.Pipeliner, key, value []byte) {
	p.Set(ctx, s.kvKey(key), value, 0)
	p.ZAdd(ctx, s.kvIndex(), goredis.Z{Member: string(key)})
}

func (s *Store) queueKVDelete(ctx context.Context, p goredis.Pipeliner, key []byte) {
	p.Del(ctx, s.kvKey(key))
	p.ZRem(ctx, s.kvIndex(), string(key))
}

// KvGet implements filer.Store.
func (s *Store) KvGet(ctx context.Context, key []byte) ([]byte, error) {
	if t := txFrom(ctx); t != nil {
		val, found, err := t.findKV(key)
		if err != nil {
			return nil, err
		}
		if found {
			if val == nil {
				return nil, fmt.Errorf("redis: kv get: %w", filer.ErrNotFound)
			}
			return append([]byte{}, val...), nil
		}
	}
	val, err := s.rdb.Get(ctx, s.kvKey(key)).Bytes()
	if errors.Is(err, goredis.Nil) {
		return nil, fmt.Errorf("redis: kv get: %w", filer.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("redis: kv get: %w", mapErr(err))
	}
	return val, nil
}

// KvDelete implements filer.Store.
func (s *Store) KvDelete(ctx context.Context, key []byte) error {
	if t := txFrom(ctx); t != nil {
		return t.setKV(key, nil)
	}
	_, err := s.rdb.TxPipelined(ctx, func(p goredis.Pipeliner) error {
		s.queueKVDelete(ctx, p, key)
		return nil
	})
	if err != nil {
		return fmt.Errorf("redis: kv delete: %w", mapErr(err))
	}
	return nil
}

// KvScan implements filer.Store: a page of keys from the index, then
// their values. A key deleted between the two reads is skipped.
func (s *Store) KvScan(ctx context.Context, prefix, start []byte, limit int, fn func(key, value []byte) bool) error {
	lo := "[" + string(start)
	if bytes.Compare(start, prefix) < 0 {
		lo = "[" + string(prefix)
	}
	hi := "+"
	if end := prefixEnd(string(prefix)); end != "" {
		hi = "(" + end
	}
	for n := 0; limit <= 0 || n < limit; {
		want := pageSize
		if limit > 0 {
			want = min(want, limit-n)
		}
		keys, err := s.rdb.ZRangeByLex(ctx, s.kvIndex(), &goredis.ZRangeBy{Min: lo, Max: hi, Count: int64(want)}).Result()
		if err != nil {
			return fmt.Errorf("redis: kv scan: %w", mapErr(err))
		}
		if len(keys) == 0 {
			return nil
		}
		full := make([]string, len(keys))
		for i, k := range keys {
			full[i] = s.kvKey([]byte(k))
		}
		vals, err := s.rdb.MGet(ctx, full...).Result()
		if err != nil {
			return fmt.Errorf("redis: kv scan: %w", mapErr(err))
		}
		for i, v := range vals {
			str, ok := v.(string)
			if !ok {
				continue
			}
			n++
			if !fn([]byte(keys[i]), []byte(str)) {
				return nil
			}
		}
		if len(keys) < want {
			return nil
		}
		lo = "(" + keys[len(keys)-1]
	}
	return nil
}
