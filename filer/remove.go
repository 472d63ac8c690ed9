package filer

import (
	"context"
	"errors"
	"fmt"
)

// listPage is how many children one store call lists when the filer walks
// a subtree.
const listPage = 1024

// DeleteOptions tune DeleteEntry.
type DeleteOptions struct {
	// Recursive deletes a folder with its whole subtree; without it a
	// folder with children is ErrNotEmpty.
	Recursive bool
	// IgnoreRecursiveError deletes what can be deleted of a subtree even
	// when walking part of it fails (the failed part's chunks may leak).
	IgnoreRecursiveError bool
	// SkipChunkDeletion leaves the chunks on the volume servers.
	SkipChunkDeletion bool
}

// DeleteEntry removes the entry p; a missing entry is not an error. A
// file's chunks, and those of every file of a deleted subtree, are queued
// for deletion in the same transaction.
func (f *Filer) DeleteEntry(ctx context.Context, p string, o DeleteOptions) error {
	p, err := NormalizePath(p)
	if err != nil {
		return err
	}
	unlock := f.locks.lock(p)
	defer unlock()
	e, err := f.find(ctx, p)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	var fids []string
	if e.IsDirectory() {
		empty, err := f.isEmpty(ctx, p)
		if err != nil {
			return err
		}
		if !empty && !o.Recursive {
			return fmt.Errorf("%w: %s", ErrNotEmpty, p)
		}
		if !empty && !o.SkipChunkDeletion {
			err := f.walk(ctx, p, func(c *Entry) error {
				fids = f.allFids(ctx, fids, c.Chunks)
				return nil
			})
			if err != nil && !o.IgnoreRecursiveError {
				return err
			}
		}
	} else if !o.SkipChunkDeletion {
		fids = f.allFids(ctx, fids, e.Chunks)
	}
	return f.tx(ctx, func(ctx context.Context) error {
		if err := f.queueDeletion(ctx, fids); err != nil {
			return err
		}
		if e.IsDirectory() {
			if err := f.store.DeleteFolderChildren(ctx, p); err != nil {
				return err
			}
		}
		if p != "/" {
			if err := f.store.DeleteEntry(ctx, p); err != nil {
				return err
			}
		}
		return f.recordEvent(ctx, e, nil, len(fids) > 0)
	})
}

func (f *Filer) isEmpty(ctx context.Context, dir string) (bool, error) {
	empty := true
	_, err := f.store.ListDirectory(ctx, dir, "", false, "", 1, func(*Entry) bool {
		empty = false
		return false
	})
	return empty, err
}

// walk calls fn for every descendant of dir, parents before children,
// listing page by page (fn's entries may be kept).
func (f *Filer) walk(ctx context.Context, dir string, fn func(*Entry) error) error {
	start := ""
	for {
		var page []*Entry
		last, err := f.store.ListDirectory(ctx, dir, start, false, "", listPage, func(e *Entry) bool {
			page = append(page, e)
			return true
		})
		if err != nil {
			return fmt.Errorf("list %s: %w", dir, err)
		}
		for _, e := range page {
			if err := fn(e); err != nil {
				return err
			}
			if e.IsDirectory() {
				if err := f.walk(ctx, e.FullPath, fn); err != nil {
					return err
				}
			}
		}
		if len(page) < listPage || last == "" {
			return nil
		}
		start = last
	}
}

// Rename moves the entry from to the path to, with its whole subtree when
// it is a folder, in one store transaction (each entry is inserted at its
// new path and removed from the old). A file over an existing file
// replaces it (its chunks are queued for deletion); a folder over an
// existing empty folder replaces it. Missing parents of to are made.
// Errors: ErrNotFound (no source), ErrBadRename (root, into its own
// subtree), ErrConflict (file over folder or the reverse, or over a
// folder with children).
func (f *Filer) Rename(ctx context.Context, from, to string) (*Entry, error) {
	from, err := NormalizePath(from)
	if err != nil {
		return nil, err
	}
	if to, err = NormalizePath(to); err != nil {
		return nil, err
	}
	if from == "/" || to == "/" {
		return nil, fmt.Errorf("%w: the root cannot move", ErrBadRename)
	}
	if from == to {
		return f.find(ctx, from)
	}
	if IsDescendant(to, from) {
		return nil, fmt.Errorf("%w: %s into its own subtree %s", ErrBadRename, from, to)
	}
	// Stores do not isolate transactions: the two paths are locked so a
	// concurrent write to either does not interleave with the move.
	unlock := f.locks.lock2(from, to)
	defer unlock()
	src, err := f.find(ctx, from)
	if err != nil {
		return nil, err
	}
	var subtree []*Entry
	if src.IsDirectory() {
		if err := f.walk(ctx, from, func(e *Entry) error { subtree = append(subtree, e); return nil }); err != nil {
			return nil, err
		}
	}
	var moved *Entry
	err = f.tx(ctx, func(ctx context.Context) error {
		if err := f.ensureDir(ctx, Dir(to)); err != nil {
			return err
		}
		old, err := f.store.FindEntry(ctx, to)
		var freed []string
		switch {
		case errors.Is(err, ErrNotFound):
			old = nil
		case err != nil:
			return err
		case old.IsDirectory() != src.IsDirectory():
			return fmt.Errorf("%w: cannot move %s over %s", ErrConflict, from, to)
		case old.IsDirectory():
			empty, err := f.isEmpty(ctx, to)
			if err != nil {
				return err
			}
			if !empty {
				return fmt.Errorf("%w: %s has children", ErrConflict, to)
			}
		default:
			freed = f.allFids(ctx, nil, old.Chunks)
		}
		moved = src.Clone()
		moved.FullPath = to
		if err := f.store.InsertEntry(ctx, moved); err != nil {
			return err
		}
		for _, e := range subtree {
			c := e.Clone()
			c.FullPath = to + e.FullPath[len(from):]
			if err := f.store.InsertEntry(ctx, c); err != nil {
				return err
			}
		}
		if src.IsDirectory() && len(subtree) > 0 {
			if err := f.store.DeleteFolderChildren(ctx, from); err != nil {
				return err
			}
		}
		if err := f.store.DeleteEntry(ctx, from); err != nil {
			return err
		}
		if err := f.queueDeletion(ctx, freed); err != nil {
			return err
		}
		return f.recordEvent(ctx, src, moved, false)
	})
	if err != nil {
		return nil, err
	}
	return moved, nil
}
