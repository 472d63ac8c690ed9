package redis

import (
	"context"
	"errors"
	"fmt"

	goredis "github.com/redis/go-redis/v9"

	"weedfs.dev/weed/filer"
)

// pageSize is how many names a listing, scan or folder walk reads per
// round trip; fn runs between pages with nothing held.
const pageSize = 1000

// InsertEntry implements filer.Store.
func (s *Store) InsertEntry(ctx context.Context, e *filer.Entry) error {
	val, err := filer.EncodeEntry(e)
	if err != nil {
		return err
	}
	if t := txFrom(ctx); t != nil {
		return t.setEntry(e.FullPath, val)
	}
	_, err = s.rdb.TxPipelined(ctx, func(p goredis.Pipeliner) error {
		s.queueSet(ctx, p, e.FullPath, val)
		return nil
	})
	if err != nil {
		return fmt.Errorf("redis: insert %s: %w", e.FullPath, mapErr(err))
	}
	return nil
}

// queueSet queues the writes that store an entry: its value and its name
// in its folder's set.
func (s *Store) queueSet(ctx context.Context, p goredis.Pipeliner, path string, val []byte) {
	p.Set(ctx, s.entryKey(path), val, 0)
	if path != "/" {
		p.ZAdd(ctx, s.dirKey(filer.Dir(path)), goredis.Z{Member: filer.Name(path)})
	}
}

// queueDelete queues the writes that remove an entry.
func (s *Store) queueDelete(ctx context.Context, p goredis.Pipeliner, path string) {
	p.Del(ctx, s.entryKey(path))
	if path != "/" {
		p.ZRem(ctx, s.dirKey(filer.Dir(path)), filer.Name(path))
	}
}

// UpdateEntry implements filer.Store.
func (s *Store) UpdateEntry(ctx context.Context, e *filer.Entry) error {
	val, err := filer.EncodeEntry(e)
	if err != nil {
		return err
	}
	if t := txFrom(ctx); t != nil {
		if _, err := s.FindEntry(ctx, e.FullPath); err != nil {
			return fmt.Errorf("redis: update: %w", err)
		}
		return t.setEntry(e.FullPath, val)
	}
	// SET XX writes only over an existing key: check and write are one
	// command. The folder's set already names an existing entry.
	ok, err := s.rdb.SetXX(ctx, s.entryKey(e.FullPath), val, goredis.KeepTTL).Result()
	if err != nil && !errors.Is(err, goredis.Nil) {
		return fmt.Errorf("redis: update %s: %w", e.FullPath, mapErr(err))
	}
	if !ok {
		return fmt.Errorf("redis: update %s: %w", e.FullPath, filer.ErrNotFound)
	}
	return nil
}

// FindEntry implements filer.Store.
func (s *Store) FindEntry(ctx context.Context, path string) (*filer.Entry, error) {
	if t := txFrom(ctx); t != nil {
		val, found, err := t.findEntry(path)
		if err != nil {
			return nil, err
		}
		if found {
			if val == nil {
				return nil, fmt.Errorf("redis: find %s: %w", path, filer.ErrNotFound)
			}
			return filer.DecodeEntry(path, val)
		}
	}
	val, err := s.rdb.Get(ctx, s.entryKey(path)).Bytes()
	if errors.Is(err, goredis.Nil) {
		return nil, fmt.Errorf("redis: find %s: %w", path, filer.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("redis: find %s: %w", path, mapErr(err))
	}
	return filer.DecodeEntry(path, val)
}

// DeleteEntry implements filer.Store.
func (s *Store) DeleteEntry(ctx context.Context, path string) error {
	if t := txFrom(ctx); t != nil {
		return t.setEntry(path, nil)
	}
	_, err := s.rdb.TxPipelined(ctx, func(p goredis.Pipeliner) error {
		s.queueDelete(ctx, p, path)
		return nil
	})
	if err != nil {
		return fmt.Errorf("redis: delete %s: %w", path, mapErr(err))
	}
	return nil
}

// DeleteFolderChildren implements filer.Store.
func (s *Store) DeleteFolderChildren(ctx context.Context, dir string) error {
	if t := txFrom(ctx); t != nil {
		return t.clearDir(dir)
	}
	keys, err := s.descendantKeys(ctx, dir)
	if err != nil {
		return err
	}
	for len(keys) > 0 { // bounded batches keep each command small
		n := min(len(keys), pageSize)
		if err := s.rdb.Del(ctx, keys[:n]...).Err(); err != nil {
			return fmt.Errorf("redis: delete children of %s: %w", dir, mapErr(err))
		}
		keys = keys[n:]
	}
	return nil
}

// descendantKeys walks dir's sets depth first and returns the keys of
// every descendant entry and of every set below dir, dir's own set last.
func (s *Store) descendantKeys(ctx context.Context, dir string) ([]string, error) {
	var keys []string
	start := ""
	for {
		names, err := s.childNames(ctx, dir, start, false, "", pageSize)
		if err != nil {
			return nil, err
		}
		// Which children are folders with children of their own.
		p := s.rdb.Pipeline()
		exists := make([]*goredis.IntCmd, len(names))
		for i, n := range names {
			exists[i] = p.Exists(ctx, s.dirKey(filer.Join(dir, n)))
		}
		if len(names) > 0 {
			if _, err := p.Exec(ctx); err != nil {
				return nil, fmt.Errorf("redis: walk %s: %w", dir, mapErr(err))
			}
		}
		for i, n := range names {
			child := filer.Join(dir, n)
			if exists[i].Val() > 0 {
				sub, err := s.descendantKeys(ctx, child)
				if err != nil {
					return nil, err
				}
				keys = append(keys, sub...)
			}
			keys = append(keys, s.entryKey(child))
		}
		if len(names) < pageSize {
			break
		}
		start = names[len(names)-1]
	}
	return append(keys, s.dirKey(dir)), nil
}

// childNames reads up to n names of dir's children in byte order.
func (s *Store) childNames(ctx context.Context, dir, start string, inclusive bool, prefix string, n int) ([]string, error) {
	lo, hi := "-", "+"
	switch {
	case start == "" && prefix == "":
	case prefix > start:
		lo = "[" + prefix
	case inclusive:
		lo = "[" + start
	default:
		lo = "(" + start
	}
	if prefix != "" {
		if end := prefixEnd(prefix); end != "" {
			hi = "(" + end
		}
	}
	names, err := s.rdb.ZRangeByLex(ctx, s.dirKey(dir), &goredis.ZRangeBy{Min: lo, Max: hi, Count: int64(n)}).Result()
	if err != nil {
		return nil, fmt.Errorf("redis: list %s: %w", dir, mapErr(err))
	}
	return names, nil
}

// ListDirectory implements filer.Store. A name whose entry vanished
// between reading the set and the entries is skipped.
func (s *Store) ListDirectory(ctx context.Context, dir, startName string, inclusive bool, prefix string, limit int, fn func(*filer.Entry) bool) (string, error) {
	last := ""
	for n := 0; limit <= 0 || n < limit; {
		want := pageSize
		if limit > 0 {
			want = min(want, limit-n)
		}
		names, err := s.childNames(ctx, dir, startName, inclusive, prefix, want)
		if err != nil {
			return last, err
		}
		if len(names) == 0 {
			break
		}
		keys := make([]string, len(names))
		for i, name := range names {
			keys[i] = s.entryKey(filer.Join(dir, name))
		}
		vals, err := s.rdb.MGet(ctx, keys...).Result()
		if err != nil {
			return last, fmt.Errorf("redis: list %s: %w", dir, mapErr(err))
		}
		for i, v := range vals {
			str, ok := v.(string)
			if !ok { // deleted since the set was read
				continue
			}
			e, err := filer.DecodeEntry(filer.Join(dir, names[i]), []byte(str))
			if err != nil {
				return last, err
			}
			n++
			last = names[i]
			if !fn(e) {
				return last, nil
			}
		}
		if len(names) < want {
			break
		}
		startName, inclusive = names[len(names)-1], false
	}
	return last, nil
}

// prefixEnd is the smallest string above every string starting with p,
// or "" when there is none (p is all 0xff bytes).
func prefixEnd(p string) string {
	end := []byte(p)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return string(end[:i+1])
		}
	}
	return ""
}
