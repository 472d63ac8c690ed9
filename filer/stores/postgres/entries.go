package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"weedfs.dev/weed/filer"
)

// rowKey splits a normalised path into its (dir, name) columns; the root
// entry is ("", "").
func rowKey(path string) (dir, name []byte) {
	if path == "/" {
		return []byte{}, []byte{}
	}
	return []byte(filer.Dir(path)), []byte(filer.Name(path))
}

// InsertEntry implements filer.Store.
func (s *Store) InsertEntry(ctx context.Context, e *filer.Entry) error {
	meta, err := filer.EncodeEntry(e)
	if err != nil {
		return err
	}
	dir, name := rowKey(e.FullPath)
	return s.with(ctx, func(q querier) error {
		_, err := q.Exec(ctx, `INSERT INTO `+s.entries+` (dir, name, meta) VALUES ($1, $2, $3)
			ON CONFLICT (dir, name) DO UPDATE SET meta = EXCLUDED.meta`, dir, name, meta)
		if err != nil {
			return fmt.Errorf("postgres: insert %s: %w", e.FullPath, mapErr(err))
		}
		return nil
	})
}

// UpdateEntry implements filer.Store.
func (s *Store) UpdateEntry(ctx context.Context, e *filer.Entry) error {
	meta, err := filer.EncodeEntry(e)
	if err != nil {
		return err
	}
	dir, name := rowKey(e.FullPath)
	return s.with(ctx, func(q querier) error {
		tag, err := q.Exec(ctx, `UPDATE `+s.entries+` SET meta = $3 WHERE dir = $1 AND name = $2`, dir, name, meta)
		if err != nil {
			return fmt.Errorf("postgres: update %s: %w", e.FullPath, mapErr(err))
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("postgres: update %s: %w", e.FullPath, filer.ErrNotFound)
		}
		return nil
	})
}

// FindEntry implements filer.Store.
func (s *Store) FindEntry(ctx context.Context, path string) (*filer.Entry, error) {
	dir, name := rowKey(path)
	var meta []byte
	err := s.with(ctx, func(q querier) error {
		return q.QueryRow(ctx, `SELECT meta FROM `+s.entries+` WHERE dir = $1 AND name = $2`, dir, name).Scan(&meta)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("postgres: find %s: %w", path, filer.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: find %s: %w", path, mapErr(err))
	}
	return filer.DecodeEntry(path, meta)
}

// DeleteEntry implements filer.Store.
func (s *Store) DeleteEntry(ctx context.Context, path string) error {
	dir, name := rowKey(path)
	return s.with(ctx, func(q querier) error {
		if _, err := q.Exec(ctx, `DELETE FROM `+s.entries+` WHERE dir = $1 AND name = $2`, dir, name); err != nil {
			return fmt.Errorf("postgres: delete %s: %w", path, mapErr(err))
		}
		return nil
	})
}

// DeleteFolderChildren implements filer.Store with two range deletions
// of the primary key, in one transaction: the folder's children, and the
// folders below them. (One statement with OR would scan the whole table.)
func (s *Store) DeleteFolderChildren(ctx context.Context, dir string) error {
	below := dir + "/"
	if dir == "/" {
		below = "/"
	}
	end := below[:len(below)-1] + "0" // '0' follows '/'
	del := func(q querier) error {
		if _, err := q.Exec(ctx, `DELETE FROM `+s.entries+` WHERE dir = $1`, []byte(dir)); err != nil {
			return fmt.Errorf("postgres: delete children of %s: %w", dir, mapErr(err))
		}
		_, err := q.Exec(ctx, `DELETE FROM `+s.entries+` WHERE dir >= $1 AND dir < $2`, []byte(below), []byte(end))
		if err != nil {
			return fmt.Errorf("postgres: delete descendants of %s: %w", dir, mapErr(err))
		}
		return nil
	}
	if txFrom(ctx) != nil {
		return s.with(ctx, del)
	}
	err := pgx.BeginFunc(ctx, s.pool, func(t pgx.Tx) error { return del(t) })
	if err != nil {
		return fmt.Errorf("postgres: delete children of %s: %w", dir, mapErr(err))
	}
	return nil
}

// pageSize is how many rows a listing or scan fetches per statement; fn
// runs between statements, so it may use the same transaction.
const pageSize = 1000

// ListDirectory implements filer.Store.
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

func (s *Store) listPage(ctx context.Context, dir, startName string, inclusive bool, prefix string, n int) ([]*filer.Entry, error) {
	cmp := ">"
	if inclusive {
		cmp = ">="
	}
	q := `SELECT name, meta FROM ` + s.entries + ` WHERE dir = $1 AND name ` + cmp + ` $2`
	args := []any{[]byte(dir), []byte(startName)}
	if prefix != "" {
		q += ` AND name >= $3`
		args = append(args, []byte(prefix))
		if end := prefixEnd([]byte(prefix)); end != nil {
			q += ` AND name < $4`
			args = append(args, end)
		}
	}
	q += fmt.Sprintf(` ORDER BY name LIMIT %d`, n)
	var page []*filer.Entry
	err := s.with(ctx, func(qr querier) error {
		rows, err := qr.Query(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		var name, meta []byte
		for rows.Next() {
			if err := rows.Scan(&name, &meta); err != nil {
				return err
			}
			e, err := filer.DecodeEntry(filer.Join(dir, string(name)), meta)
			if err != nil {
				return err
			}
			page = append(page, e)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: list %s: %w", dir, mapErr(err))
	}
	return page, nil
}

// prefixEnd is the smallest key above every key starting with p, or nil
// when there is none (p is all 0xff).
func prefixEnd(p []byte) []byte {
	end := append([]byte(nil), p...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}
