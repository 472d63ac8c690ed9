package storage

import (
	"context"
	"encoding/binary"
	"fmt"
	"time"

	"weedfs.dev/weed/storage/needle"
)

// metaFullRead is the record length up to which ReadMeta simply reads the
// whole record: below it one read costs what two do.
const metaFullRead = 64 << 10

// bodyDataSizeLen is the width of the DataSize field that starts a version
// 2/3 body (see the needle package's byte table).
const bodyDataSizeLen = 4

// ReadMeta returns needle key's metadata (flags, name, mime, last
// modified, TTL, pairs, checksum, AppendAtNs) and the length of its data,
// without reading the data when the record is large: what HEAD needs. The
// returned needle's Data is nil. Its checksum is not verified (the data is
// not read), so never serve bytes from it; errors are Read's.
func (v *Volume) ReadMeta(ctx context.Context, key uint64, cookie uint32, opts ReadOptions) (*needle.Needle, uint32, error) {
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	n, dataSize, err := v.readMeta(key, cookie, opts)
	if err != nil {
		return nil, 0, fmt.Errorf("read needle %x metadata from volume %d: %w", key, v.id, err)
	}
	return n, dataSize, nil
}

func (v *Volume) readMeta(key uint64, cookie uint32, opts ReadOptions) (*needle.Needle, uint32, error) {
	v.fmu.RLock()
	defer v.fmu.RUnlock()
	mv, datSize, err := v.lookup(key, opts)
	if err != nil {
		return nil, 0, err
	}
	var n *needle.Needle
	var dataSize uint32
	ver := v.sb.Version
	if ver == needle.Version1 || mv.Size == 0 || needle.RecordLen(mv.Size, ver) <= metaFullRead {
		n, err = v.readRecord(key, mv, datSize, nil)
		if n != nil {
			dataSize, n.Data = uint32(len(n.Data)), nil
		}
	} else {
		n, dataSize, err = v.readMetaParts(key, mv, datSize)
	}
	if err != nil {
		return nil, 0, err
	}
	if n.Cookie != cookie {
		return nil, 0, fmt.Errorf("%w: needle %x has cookie %08x, not %08x", ErrCookieMismatch, key, n.Cookie, cookie)
	}
	if at, ok := ExpiresAt(n); ok && !v.now().Before(at) {
		return nil, 0, fmt.Errorf("%w at %s", ErrExpired, at.UTC().Format(time.RFC3339))
	}
	return n, dataSize, nil
}

// readMetaParts reads a version 2/3 record's header and DataSize, skips the
// data, reads the rest, and decodes the metadata from a stand-in record
// whose data is one placeholder byte. fmu must be held.
func (v *Volume) readMetaParts(key uint64, mv mapValue, datSize int64) (*needle.Needle, uint32, error) {
	ver := v.sb.Version
	off := mv.ByteOffset()
	recLen := needle.RecordLen(mv.Size, ver)
	if off < int64(v.sb.Len()) || off+recLen > datSize {
		return nil, 0, fmt.Errorf("%w: index points at %d bytes at %d, data file has %d", ErrCorrupt, recLen, off, datSize)
	}
	var head [needle.HeaderSize + bodyDataSizeLen]byte
	if err := readFull(v.dat, head[:], off); err != nil {
		return nil, 0, err
	}
	cookie, id, size, err := needle.ParseHeader(head[:])
	if err != nil {
		return nil, 0, corrupt(err)
	}
	dataSize := binary.BigEndian.Uint32(head[needle.HeaderSize:])
	// The body holds DataSize, the data and at least the flags byte.
	if id != key || size != mv.Size || uint64(dataSize)+bodyDataSizeLen+1 > uint64(size) {
		return nil, 0, fmt.Errorf("%w: record at %d: needle %x size %d data %d, index says %x size %d", ErrCorrupt, off, id, size, dataSize, key, mv.Size)
	}
	restStart := int64(needle.HeaderSize+bodyDataSizeLen) + int64(dataSize)
	rest := make([]byte, recLen-restStart) // flags ... pairs, checksum, timestamp, padding
	if err := readFull(v.dat, rest, off+restStart); err != nil {
		return nil, 0, err
	}
	standIn := size - dataSize + 1
	rec := make([]byte, needle.RecordLen(standIn, ver))
	binary.BigEndian.PutUint32(rec[0:], cookie)
	binary.BigEndian.PutUint64(rec[4:], id)
	binary.BigEndian.PutUint32(rec[12:], standIn)
	binary.BigEndian.PutUint32(rec[needle.HeaderSize:], 1)
	copy(rec[needle.HeaderSize+bodyDataSizeLen+1:], rest)
	n, err := needle.DecodeMeta(rec, ver)
	if err != nil {
		return nil, 0, corrupt(fmt.Errorf("record at %d: %w", off, err))
	}
	n.Size, n.Data = size, nil
	return n, dataSize, nil
}
