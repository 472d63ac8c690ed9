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
	// Alloc, when set, returns the buffer of at least n bytes the record is
	// read into, instead of a new one: a server reading large blobs takes
	// them from a pool. The needle's slices then alias it: the caller must
	// not reuse it while it uses the needle.
	Alloc func(n int) []byte
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
	// fmu keeps the files in place through the disk read.
	v.fmu.RLock()
	defer v.fmu.RUnlock()
	mv, datSize, err := v.lookup(key, opts)
	if err != nil {
		return nil, err
	}
	n, err := v.readRecord(key, mv, datSize, opts.Alloc)
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

// lookup finds key in the map and returns its value and the .dat size the
// map was published with.
func (v *Volume) lookup(key uint64, opts ReadOptions) (mapValue, int64, error) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	if v.closed {
		return mapValue{}, 0, ErrClosed
	}
	mv, ok := v.nm.Get(key)
	if !ok {
		return mapValue{}, 0, ErrNotFound
	}
	if mv.Deleted() && !opts.ReadDeleted {
		return mapValue{}, 0, ErrDeleted
	}
	return mv, v.datSize, nil
}

// readRecord reads and decodes the record mv points at, within the first
// datSize bytes of .dat, and checks it is key's. It reads into a buffer from
// alloc (nil: a new one). The caller holds fmu (read) or wmu, so the files
// stay in place.
func (v *Volume) readRecord(key uint64, mv mapValue, datSize int64, alloc func(int) []byte) (*needle.Needle, error) {
	off := mv.ByteOffset()
	n := needle.RecordLen(mv.Size, v.sb.Version)
	// Check before allocating: a corrupt entry must not cost gigabytes.
	if off < int64(v.sb.Len()) || off+n > datSize {
		return nil, fmt.Errorf("%w: index points at %d bytes at %d, data file has %d", ErrCorrupt, n, off, datSize)
	}
	var buf []byte
	if alloc != nil {
		buf = alloc(int(n))
	}
	if len(buf) < int(n) {
		buf = make([]byte, n)
	}
	buf = buf[:n]
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
