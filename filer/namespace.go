package filer

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"sync"
	"time"
)

// DefaultDirMode is the mode of folders the filer makes on its own.
const DefaultDirMode = os.ModeDir | 0o755

// pathLocks serialises read-modify-write changes of one path within this
// process (appends, overwrites that free chunks), striped by hash.
type pathLocks struct {
	stripes [64]sync.Mutex
}

func (l *pathLocks) stripe(p string) int {
	h := fnv.New32a()
	h.Write([]byte(p))
	return int(h.Sum32() % uint32(len(l.stripes)))
}

func (l *pathLocks) lock(p string) func() {
	m := &l.stripes[l.stripe(p)]
	m.Lock()
	return m.Unlock
}

// lock2 locks two paths in stripe order, so two callers locking the same
// pair in opposite orders cannot deadlock.
func (l *pathLocks) lock2(a, b string) func() {
	i, j := l.stripe(a), l.stripe(b)
	if i == j {
		return l.lock(a)
	}
	if i > j {
		i, j = j, i
	}
	l.stripes[i].Lock()
	l.stripes[j].Lock()
	return func() { l.stripes[j].Unlock(); l.stripes[i].Unlock() }
}

// tx runs fn in a store transaction and, once it committed, publishes the
// events it recorded to the followers of the change feed, and wakes the
// deletion loop when it queued chunks (only then: a drain reads the
// store, and most changes free nothing).
func (f *Filer) tx(ctx context.Context, fn func(ctx context.Context) error) error {
	var p pendingEvents
	err := WithTx(ctx, f.store, func(ctx context.Context) error {
		return fn(context.WithValue(ctx, pendingKey{}, &p))
	})
	if err != nil {
		f.feed.abandon(&p)
		return err
	}
	f.feed.publish(&p)
	if p.deletions {
		f.nudgeDeletion()
	}
	return nil
}

func (f *Filer) rootEntry() *Entry {
	return &Entry{FullPath: "/", Mode: DefaultDirMode, Mtime: f.started, Crtime: f.started}
}

// FindEntry returns the entry at a path (normalised here) or ErrNotFound.
// The root always exists.
func (f *Filer) FindEntry(ctx context.Context, p string) (*Entry, error) {
	p, err := NormalizePath(p)
	if err != nil {
		return nil, err
	}
	return f.find(ctx, p)
}

func (f *Filer) find(ctx context.Context, p string) (*Entry, error) {
	if p == "/" {
		return f.rootEntry(), nil
	}
	e, err := f.store.FindEntry(ctx, p)
	if err == nil && f.expired(e) {
		return nil, fmt.Errorf("%s expired: %w", p, ErrNotFound)
	}
	return e, err
}

// expired reports whether a file written with a TTL has outlived it since
// its last write (its chunks' volumes drop them on their own); it reads as
// missing, as in SeaweedFS, until something replaces or deletes it.
func (f *Filer) expired(e *Entry) bool {
	if e.TTLSec <= 0 || e.IsDirectory() || e.Mtime.IsZero() {
		return false
	}
	return f.now().After(e.Mtime.Add(time.Duration(e.TTLSec) * time.Second))
}

// ensureDir makes the folder dir and its missing parents (inside ctx's
// transaction). A file on the way is ErrConflict.
func (f *Filer) ensureDir(ctx context.Context, dir string) error {
	if dir == "/" {
		return nil
	}
	e, err := f.store.FindEntry(ctx, dir)
	switch {
	case err == nil:
		if !e.IsDirectory() {
			return fmt.Errorf("%w: %s is a file", ErrConflict, dir)
		}
		// A folder exists only when its parents do.
		return nil
	case !errors.Is(err, ErrNotFound):
		return err
	}
	if err := f.ensureDir(ctx, Dir(dir)); err != nil {
		return err
	}
	now := f.now()
	d := &Entry{FullPath: dir, Mode: DefaultDirMode, Mtime: now, Crtime: now}
	if err := f.store.InsertEntry(ctx, d); err != nil {
		return err
	}
	return f.recordEvent(ctx, nil, d, false)
}

// Mkdir makes the folder p and its missing parents. An existing folder is
// not an error; a file there is ErrConflict.
func (f *Filer) Mkdir(ctx context.Context, p string, mode os.FileMode) (*Entry, error) {
	p, err := NormalizePath(p)
	if err != nil {
		return nil, err
	}
	var made *Entry
	err = f.tx(ctx, func(ctx context.Context) error {
		if err := f.ensureDir(ctx, Dir(p)); err != nil {
			return err
		}
		e, err := f.find(ctx, p)
		if err == nil {
			if !e.IsDirectory() {
				return fmt.Errorf("%w: %s is a file", ErrConflict, p)
			}
			made = e
			return nil
		}
		if !errors.Is(err, ErrNotFound) {
			return err
		}
		now := f.now()
		if mode&os.ModePerm == 0 {
			mode = DefaultDirMode
		}
		made = &Entry{FullPath: p, Mode: mode | os.ModeDir, Mtime: now, Crtime: now}
		if err := f.store.InsertEntry(ctx, made); err != nil {
			return err
		}
		return f.recordEvent(ctx, nil, made, false)
	})
	return made, err
}

// SaveEntry creates or replaces the entry e.FullPath (normalised here),
// making missing parents. Replacing a folder by a file or the reverse is
// ErrConflict. Chunks the old entry held that e does not are queued for
// deletion in the same transaction. done, when not nil, runs inside the
// transaction too (the upload record of the body is removed there).
func (f *Filer) SaveEntry(ctx context.Context, e *Entry) error {
	return f.saveEntry(ctx, e, nil)
}

func (f *Filer) saveEntry(ctx context.Context, e *Entry, done func(ctx context.Context) error) error {
	p, err := NormalizePath(e.FullPath)
	if err != nil {
		return err
	}
	if p == "/" {
		return fmt.Errorf("%w: the root is a folder", ErrConflict)
	}
	e.FullPath = p
	unlock := f.locks.lock(p)
	defer unlock()
	return f.tx(ctx, func(ctx context.Context) error {
		if err := f.ensureDir(ctx, Dir(p)); err != nil {
			return err
		}
		old, err := f.store.FindEntry(ctx, p)
		switch {
		case errors.Is(err, ErrNotFound):
			old = nil
		case err != nil:
			return err
		case old.IsDirectory() != e.IsDirectory():
			if old.IsDirectory() {
				return fmt.Errorf("%w: %s is a folder", ErrConflict, p)
			}
			return fmt.Errorf("%w: %s is a file", ErrConflict, p)
		}
		if old != nil && !old.Crtime.IsZero() {
			e.Crtime = old.Crtime
		}
		if err := f.store.InsertEntry(ctx, e); err != nil {
			return err
		}
		freed := f.unreferenced(ctx, old, e)
		if err := f.queueDeletion(ctx, freed); err != nil {
			return err
		}
		if done != nil {
			if err := done(ctx); err != nil {
				return err
			}
		}
		return f.recordEvent(ctx, old, e, len(freed) > 0)
	})
}

// unreferenced lists the fids of old that e no longer holds, looking
// into manifest chunks when either has some.
func (f *Filer) unreferenced(ctx context.Context, old, e *Entry) []string {
	if old == nil || len(old.Chunks) == 0 {
		return nil
	}
	oldFids, newFids := appendChunkFids(nil, old.Chunks), appendChunkFids(nil, e.Chunks)
	if hasManifest(old.Chunks) || hasManifest(e.Chunks) {
		oldFids, newFids = f.allFids(ctx, nil, old.Chunks), f.allFids(ctx, nil, e.Chunks)
	}
	keep := make(map[string]bool, len(newFids))
	for _, fid := range newFids {
		keep[fid] = true
	}
	var out []string
	for _, fid := range oldFids {
		if !keep[fid] {
			out = append(out, fid)
		}
	}
	return out
}

func appendChunkFids(fids []string, chunks []Chunk) []string {
	for _, c := range chunks {
		fids = append(fids, c.Fid)
	}
	return fids
}

// FileAttrs are the attributes of a file written through WriteFile.
type FileAttrs struct {
	Mode     os.FileMode // permission bits; 0 means 0660
	UID, GID uint32
	Mime     string
	TTLSec   int32
	// Extended attributes, e.g. Seaweed-* headers with their prefix.
	Extended map[string][]byte
}

// WriteFile stores the body r as the file p: chunks first, then the entry
// in one transaction (replacing any file there and queueing its chunks for
// deletion). A failed or cut-off body leaves no entry and its chunks are
// queued for deletion.
func (f *Filer) WriteFile(ctx context.Context, p string, r io.Reader, attrs FileAttrs, o WriteOptions) (*Entry, error) {
	p, err := NormalizePath(p)
	if err != nil {
		return nil, err
	}
	if err := f.checkWritable(ctx, p); err != nil {
		return nil, err
	}
	rec := f.newUploadRecord()
	w, err := f.upload(ctx, r, 0, o, rec)
	if err != nil {
		return nil, err
	}
	if w.chunks, err = f.manifestize(ctx, w.chunks, o, rec); err != nil {
		f.abandon(context.WithoutCancel(ctx), rec)
		return nil, err
	}
	now := f.now()
	mode := attrs.Mode & os.ModePerm
	if mode == 0 {
		mode = 0o660
	}
	e := &Entry{
		FullPath: p, Mode: mode, UID: attrs.UID, GID: attrs.GID,
		Mtime: now, Crtime: now, Mime: attrs.Mime, TTLSec: attrs.TTLSec,
		FileSize: uint64(w.size), Md5: w.md5, Extended: attrs.Extended,
		Content: w.content, Chunks: w.chunks,
		Collection: o.Collection, Replication: o.Replication,
	}
	if err := f.saveEntry(ctx, e, rec.commit); err != nil {
		f.abandon(context.WithoutCancel(ctx), rec)
		return nil, err
	}
	rec.settle()
	return e, nil
}

// checkWritable fails early (before any chunk is sent) when p or one of
// its parents is in the way; the transaction checks again.
func (f *Filer) checkWritable(ctx context.Context, p string) error {
	if p == "/" {
		return fmt.Errorf("%w: the root is a folder", ErrConflict)
	}
	e, err := f.store.FindEntry(ctx, p)
	if err == nil {
		if e.IsDirectory() {
			return fmt.Errorf("%w: %s is a folder", ErrConflict, p)
		}
		return nil
	}
	if !errors.Is(err, ErrNotFound) {
		return err
	}
	for d := Dir(p); d != "/"; d = Dir(d) {
		e, err := f.store.FindEntry(ctx, d)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		if !e.IsDirectory() {
			return fmt.Errorf("%w: %s is a file", ErrConflict, d)
		}
		return nil
	}
	return nil
}

// Append adds the body r at the end of the file p, making it if missing.
// The new chunks join the entry's list; the whole-file MD5 is dropped
// (unknown without reading the file again), except for a new file.
func (f *Filer) Append(ctx context.Context, p string, r io.Reader, attrs FileAttrs, o WriteOptions) (*Entry, error) {
	p, err := NormalizePath(p)
	if err != nil {
		return nil, err
	}
	if err := f.checkWritable(ctx, p); err != nil {
		return nil, err
	}
	// Appends to one path are serialised across their whole upload, so
	// two never build on the same old entry.
	unlock := f.appendLocks.lock(p)
	defer unlock()
	old, err := f.store.FindEntry(ctx, p)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	if old == nil {
		return f.WriteFile(ctx, p, r, attrs, o)
	}
	if old.IsDirectory() {
		return nil, fmt.Errorf("%w: %s is a folder", ErrConflict, p)
	}
	e := old.Clone()
	base := int64(e.FileSize)
	if len(e.Content) > 0 {
		// Inline content moves into chunks with the appended bytes.
		r = io.MultiReader(bytesReader(e.Content), r)
		base = 0
		e.Content = nil
	}
	o.SaveInside = false
	if o.Collection == "" {
		o.Collection = e.Collection
	}
	if o.Replication == "" {
		o.Replication = e.Replication
	}
	rec := f.newUploadRecord()
	w, err := f.upload(ctx, r, base, o, rec)
	if err != nil {
		return nil, err
	}
	if e.Chunks, err = f.manifestize(ctx, append(e.Chunks, w.chunks...), o, rec); err != nil {
		f.abandon(context.WithoutCancel(ctx), rec)
		return nil, err
	}
	e.FileSize = uint64(base + w.size)
	e.Md5 = nil
	e.Mtime = f.now()
	if err := f.saveEntry(ctx, e, rec.commit); err != nil {
		f.abandon(context.WithoutCancel(ctx), rec)
		return nil, err
	}
	rec.settle()
	return e, nil
}

// ListOptions select children of a folder.
type ListOptions struct {
	StartName string
	Inclusive bool
	Prefix    string
	Limit     int
}

// List calls fn for children of the folder dir in name order. dir missing
// is ErrNotFound; a file is ErrConflict.
func (f *Filer) List(ctx context.Context, dir string, o ListOptions, fn func(*Entry) bool) (last string, err error) {
	dir, err = NormalizePath(dir)
	if err != nil {
		return "", err
	}
	d, err := f.find(ctx, dir)
	if err != nil {
		return "", err
	}
	if !d.IsDirectory() {
		return "", fmt.Errorf("%w: %s is a file", ErrConflict, dir)
	}
	return f.store.ListDirectory(ctx, dir, o.StartName, o.Inclusive, o.Prefix, o.Limit, func(e *Entry) bool {
		if f.expired(e) {
			return true
		}
		return fn(e)
	})
}
