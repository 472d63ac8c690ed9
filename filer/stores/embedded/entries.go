package embedded

import (
	"bytes"
	"context"
	"fmt"

	"github.com/cockroachdb/pebble/v2"

	"weedfs.dev/weed/filer"
)

// InsertEntry implements filer.Store.
func (s *Store) InsertEntry(ctx context.Context, e *filer.Entry) error {
	val, err := filer.EncodeEntry(e)
	if err != nil {
		return err
	}
	return s.write(ctx, func(w writer, _ reader) error {
		return w.Set(entryKey(e.FullPath), val, nil)
	})
}

// UpdateEntry implements filer.Store.
func (s *Store) UpdateEntry(ctx context.Context, e *filer.Entry) error {
	val, err := filer.EncodeEntry(e)
	if err != nil {
		return err
	}
	key := entryKey(e.FullPath)
	return s.write(ctx, func(w writer, r reader) error {
		if _, err := get(r, key); err != nil {
			return fmt.Errorf("embedded: update %s: %w", e.FullPath, err)
		}
		return w.Set(key, val, nil)
	})
}

// FindEntry implements filer.Store.
func (s *Store) FindEntry(ctx context.Context, path string) (*filer.Entry, error) {
	var val []byte
	err := s.read(ctx, func(r reader) error {
		var err error
		val, err = get(r, entryKey(path))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("embedded: find %s: %w", path, err)
	}
	return filer.DecodeEntry(path, val)
}

// DeleteEntry implements filer.Store.
func (s *Store) DeleteEntry(ctx context.Context, path string) error {
	return s.write(ctx, func(w writer, _ reader) error {
		return w.Delete(entryKey(path), nil)
	})
}

// DeleteFolderChildren implements filer.Store with two range deletions,
// so its cost does not grow with the number of descendants.
func (s *Store) DeleteFolderChildren(ctx context.Context, dir string) error {
	return s.write(ctx, func(w writer, _ reader) error {
		if dir != "/" { // the root's children lie inside its descendants' range
			p := childrenPrefix(dir)
			if err := w.DeleteRange(p, prefixEnd(p), nil); err != nil {
				return fmt.Errorf("embedded: delete children of %s: %w", dir, err)
			}
		}
		p := descendantsPrefix(dir)
		if err := w.DeleteRange(p, prefixEnd(p), nil); err != nil {
			return fmt.Errorf("embedded: delete descendants of %s: %w", dir, err)
		}
		return nil
	})
}

// pageSize is how many entries or KV pairs a listing or scan reads at a
// time. fn runs between pages with nothing held, so it may call the store
// again, on the same transaction too.
const pageSize = 1000

// ListDirectory implements filer.Store. Each page of pageSize entries is
// read from one consistent view; fn sees changes made between pages.
func (s *Store) ListDirectory(ctx context.Context, dir, startName string, inclusive bool, prefix string, limit int, fn func(*filer.Entry) bool) (string, error) {
	last := ""
	for n := 0; limit <= 0 || n < limit; {
		want := pageSize
		if limit > 0 {
			want = min(want, limit-n)
		}
		page, err := s.listPage(ctx, dir, startName, inclusive, prefix, want)
		if err != nil {
			return last, err
		}
		for _, e := range page {
			n++
			last = e.Name()
			if !fn(e) {
				return last, nil
			}
		}
		if len(page) < want {
			break
		}
		startName, inclusive = last, false
	}
	return last, nil
}

// listPage reads up to n children of dir in name order.
func (s *Store) listPage(ctx context.Context, dir, startName string, inclusive bool, prefix string, n int) ([]*filer.Entry, error) {
	children := childrenPrefix(dir)
	lower := append(append([]byte(nil), children...), prefix...)
	opts := &pebble.IterOptions{LowerBound: lower, UpperBound: prefixEnd(lower)}
	seek := append(append([]byte(nil), children...), startName...)
	var page []*filer.Entry
	err := s.read(ctx, func(r reader) error {
		it, err := r.NewIter(opts)
		if err != nil {
			return fmt.Errorf("embedded: list %s: %w", dir, err)
		}
		defer it.Close()
		ok := it.SeekGE(seek)
		if ok && !inclusive && bytes.Equal(it.Key(), seek) {
			ok = it.Next()
		}
		for ; ok && len(page) < n; ok = it.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			name := string(it.Key()[len(children):])
			val, err := it.ValueAndErr()
			if err != nil {
				return fmt.Errorf("embedded: list %s: %w", dir, err)
			}
			// DecodeEntry copies what it keeps (protobuf does not alias its
			// input), so the iterator's value is handed in as it is.
			e, err := filer.DecodeEntry(filer.Join(dir, name), val)
			if err != nil {
				return err
			}
			page = append(page, e)
		}
		if err := it.Error(); err != nil {
			return fmt.Errorf("embedded: list %s: %w", dir, err)
		}
		return nil
	})
	return page, err
}
