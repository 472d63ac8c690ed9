package needle

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// ParseHeader decodes the 16-byte record header at the start of b.
func ParseHeader(b []byte) (cookie uint32, id uint64, size uint32, err error) {
	if len(b) < HeaderSize {
		return 0, 0, 0, fmt.Errorf("header of %d bytes, want %d: %w", len(b), HeaderSize, ErrCorrupt)
	}
	return binary.BigEndian.Uint32(b[0:4]), binary.BigEndian.Uint64(b[4:12]), binary.BigEndian.Uint32(b[12:16]), nil
}

// Decode decodes the whole record at the start of b, written in version v.
// Bytes after the record are ignored. The returned needle's Data, Name, Mime
// and Pairs alias b. Every error wraps ErrCorrupt (or ErrVersion for an
// unknown v); a checksum mismatch wraps ErrChecksum.
func Decode(b []byte, v Version) (*Needle, error) {
	n := new(Needle)
	if err := n.decode(b, v, true); err != nil {
		return nil, err
	}
	return n, nil
}

// DecodeMeta decodes the record at the start of b like Decode, but checks
// only the lengths, not the checksum: it serves metadata-only reads (HEAD)
// and must not be used to hand out Data.
func DecodeMeta(b []byte, v Version) (*Needle, error) {
	n := new(Needle)
	if err := n.decode(b, v, false); err != nil {
		return nil, err
	}
	return n, nil
}

func (n *Needle) decode(b []byte, v Version, verify bool) error {
	if !v.Valid() {
		return fmt.Errorf("version %d: %w", v, ErrVersion)
	}
	var err error
	n.Cookie, n.ID, n.Size, err = ParseHeader(b)
	if err != nil {
		return err
	}
	if n.Size > MaxSize {
		return fmt.Errorf("needle %x: size %d past int32: %w", n.ID, n.Size, ErrCorrupt)
	}
	total := RecordLen(n.Size, v)
	if int64(len(b)) < total {
		return fmt.Errorf("needle %x: record of %d bytes, have %d: %w", n.ID, total, len(b), ErrCorrupt)
	}
	body := b[HeaderSize : HeaderSize+int(n.Size)]
	tail := b[HeaderSize+int(n.Size):]
	n.Checksum = binary.BigEndian.Uint32(tail)
	if v == Version3 {
		n.AppendAtNs = binary.BigEndian.Uint64(tail[ChecksumSize:])
	}
	if n.Size == 0 {
		// No body: an empty file or a tombstone, whose checksum field
		// holds the deleted data's CRC, so there is nothing to verify.
		return nil
	}
	if v == Version1 {
		n.Data = body
	} else if err := n.decodeBody(body); err != nil {
		return err
	}
	if verify && !checksumMatches(n.Checksum, n.Data) {
		return fmt.Errorf("needle %x: stored %08x, data %08x: %w", n.ID, n.Checksum, CRC(n.Data), ErrChecksum)
	}
	return nil
}

// decodeBody parses a version 2/3 body, which must be consumed exactly by
// the fields its flags announce.
func (n *Needle) decodeBody(body []byte) error {
	r := reader{b: body}
	dataSize := r.uint32()
	if dataSize == 0 && r.err == nil {
		// SeaweedFS writes no body for empty data, so a body announcing
		// none is not one of its records.
		return fmt.Errorf("needle %x: body with empty data: %w", n.ID, ErrCorrupt)
	}
	n.Data = r.bytes(int64(dataSize))
	n.Flags = r.byte()
	if n.HasName() {
		n.Name = r.bytes(int64(r.byte()))
	}
	if n.HasMime() {
		n.Mime = r.bytes(int64(r.byte()))
	}
	if n.HasLastModified() {
		lm := r.bytes(lastModifiedSize)
		if len(lm) == lastModifiedSize {
			n.LastModified = uint64(lm[0])<<32 | uint64(binary.BigEndian.Uint32(lm[1:]))
		}
	}
	if n.HasTTL() {
		tb := r.bytes(ttlSize)
		if len(tb) == ttlSize && r.err == nil {
			t, err := TTLFromBytes(tb)
			if err != nil {
				return fmt.Errorf("needle %x: %w: %w", n.ID, err, ErrCorrupt)
			}
			n.TTL = t
		}
	}
	if n.HasPairs() {
		n.Pairs = r.bytes(int64(r.uint16()))
	}
	if r.err != nil {
		return fmt.Errorf("needle %x: body of %d bytes: %w: %w", n.ID, len(body), r.err, ErrCorrupt)
	}
	if len(r.b) != 0 {
		return fmt.Errorf("needle %x: %d unexplained bytes at end of body: %w", n.ID, len(r.b), ErrCorrupt)
	}
	return nil
}

// errShortBody is recorded by reader when a field runs past the body.
var errShortBody = errors.New("field past end of body")

// reader consumes a byte slice front to back; after the first short read it
// returns zero values and remembers the error, so decodeBody checks once.
type reader struct {
	b   []byte
	err error
}

func (r *reader) bytes(n int64) []byte {
	if r.err != nil || n > int64(len(r.b)) {
		r.err = errShortBody
		return nil
	}
	out := r.b[:n:n]
	r.b = r.b[n:]
	return out
}

func (r *reader) byte() uint8 {
	if p := r.bytes(1); p != nil {
		return p[0]
	}
	return 0
}

func (r *reader) uint16() uint16 {
	if p := r.bytes(2); p != nil {
		return binary.BigEndian.Uint16(p)
	}
	return 0
}

func (r *reader) uint32() uint32 {
	if p := r.bytes(4); p != nil {
		return binary.BigEndian.Uint32(p)
	}
	return 0
}
