package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"weedfs.dev/weed/storage/needle"
	"weedfs.dev/weed/storage/vfs"
)

// ReadOptions are per-read choices.
type ReadOptions struct {
	// ReadDeleted serves a deleted needle whose data compaction has not
	// removed yet (SeaweedFS's readDeleted=true).
	ReadDeleted bool
}

// Read returns the needle key if its cookie matches: one map lookup and one
// positioned read of the whole record, decoded with its checksum checked.
// Errors: ErrNotFound (absent, or expired: ErrExpired), ErrDeleted,
// ErrCookieMismatch, and ErrCorrupt (with needle.ErrCorrupt) when the
// record on disk does not decode or its checksum fails; the bytes are never
// returned then. The needle's slices are its own.
func (v *Volume) Read(ctx context.Context, key uint64, cookie uint32, opts ReadOptions) (*needle.Needle, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	n, err := v.read(key, cookie, opts)
	if err != nil {
		return nil, fmt.Errorf("read needle %x from volume %d: %w", key, v.id, err)
	}
	return n, nil
}

func (v *Volume) read(key uint64, cookie uint32, opts ReadOptions) (*needle.Needle, error) {
	// The read lock is held through the disk read: a compaction commit
	// swaps the files under the write lock.
	v.mu.RLock()
	defer v.mu.RUnlock()
	if v.closed {
		return nil, ErrClosed
	}
	mv, ok := v.nm.Get(key)
	if !ok {
		return nil, ErrNotFound
	}
	if mv.Deleted() && !opts.ReadDeleted {
		return nil, ErrDeleted
	}
	n, err := v.readRecord(key, mv)
	if err != nil {
		return nil, err
	}
	if n.Cookie != cookie {
		return nil, fmt.Errorf("%w: needle %x has cookie %08x, not %08x", ErrCookieMismatch, key, n.Cookie, cookie)
	}
	if at, ok := ExpiresAt(n); ok && !v.now().Before(at) {
		return nil, fmt.Errorf("%w at %s", ErrExpired, at.UTC().Format(time.RFC3339))
	}
	return n, nil
}

// readRecord reads and decodes the record mv points at and checks it is
// key's. The caller holds mu (read) or wmu.
func (v *Volume) readRecord(key uint64, mv mapValue) (*needle.Needle, error) {
	off := mv.ByteOffset()
	n := needle.RecordLen(mv.Size, v.sb.Version)
	// Check before allocating: a corrupt entry must not cost gigabytes.
	if off < int64(v.sb.Len()) || off+n > v.datSize {
		return nil, fmt.Errorf("%w: index points at %d bytes at %d, data file has %d", ErrCorrupt, n, off, v.datSize)
	}
	buf := make([]byte, n)
	if err := readFull(v.dat, buf, off); err != nil {
		return nil, err
	}
	rec, err := needle.Decode(buf, v.sb.Version)
	if err != nil {
		return nil, corrupt(fmt.Errorf("record at %d: %w", off, err))
	}
	if rec.ID != key || rec.Size != mv.Size {
		return nil, fmt.Errorf("%w: record at %d is needle %x of size %d, index says %x of size %d", ErrCorrupt, off, rec.ID, rec.Size, key, mv.Size)
	}
	return rec, nil
}

// ExpiresAt returns when a needle with a TTL stops being served: its
// LastModified plus its TTL, as SeaweedFS computes it. ok is false for a
// needle without both.
func ExpiresAt(n *needle.Needle) (at time.Time, ok bool) {
	if !n.HasTTL() || !n.HasLastModified() || n.TTL.IsEmpty() {
		return time.Time{}, false
	}
	return time.Unix(int64(n.LastModified), 0).Add(n.TTL.Duration()), true
}

// readFull reads len(b) bytes at off. A file shorter than that is corrupt:
// the index promised a whole record there.
func readFull(f vfs.File, b []byte, off int64) error {
	n, err := f.ReadAt(b, off)
	if n == len(b) {
		return nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		return fmt.Errorf("%w: %d bytes at %d, file ends after %d", ErrCorrupt, len(b), off, n)
	}
	return fmt.Errorf("read %d bytes at %d: %w", len(b), off, err)
}
