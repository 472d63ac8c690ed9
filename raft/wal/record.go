package wal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"

	"google.golang.org/protobuf/proto"

	"weedfs.dev/weed/raft"
	"weedfs.dev/weed/raft/raftpb"
)

// Record framing constants; they are part of the on-disk format.
const (
	headerSize = 9       // length u32 + crc u32 + type u8
	maxPayload = 1 << 30 // a larger length field is corruption, not a record
	markSize   = 16      // payload of recordCompact and recordReset

	recordEntry     byte = 1
	recordHardState byte = 2
	recordCompact   byte = 3
	recordReset     byte = 4
)

// castagnoli is the CRC-32C table; it is never modified after creation.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

var (
	// errShort: the bytes end inside a record (a torn tail at the end of
	// the last segment, corruption anywhere else).
	errShort = errors.New("record extends past the end of the data")
	// errChecksum: the CRC does not match the record.
	errChecksum = errors.New("record checksum mismatch")
)

// recordCRC is the checksum of a framed record b (header included).
func recordCRC(b []byte) uint32 {
	c := crc32.Update(0, castagnoli, b[0:4])
	return crc32.Update(c, castagnoli, b[8:])
}

// appendRecord frames payload as a record of type typ at the end of dst.
func appendRecord(dst []byte, typ byte, payload []byte) []byte {
	start := len(dst)
	dst = append(dst, make([]byte, headerSize)...)
	dst = append(dst, payload...)
	frame(dst[start:], typ)
	return dst
}

// frame fills in the header of rec, a record whose payload was written
// after headerSize reserved bytes.
func frame(rec []byte, typ byte) {
	binary.LittleEndian.PutUint32(rec[0:4], uint32(len(rec)-headerSize))
	rec[8] = typ
	binary.LittleEndian.PutUint32(rec[4:8], recordCRC(rec))
}

// decodeRecord reads the record at the start of b. n is the length of the
// whole record when the length field is plausible, even when err is
// errChecksum, so the caller can tell a bad last record from a bad middle one.
func decodeRecord(b []byte) (typ byte, payload []byte, n int, err error) {
	if len(b) < headerSize {
		return 0, nil, 0, errShort
	}
	length := binary.LittleEndian.Uint32(b[0:4])
	if length > maxPayload {
		return 0, nil, 0, fmt.Errorf("record length %d over the limit %d: %w", length, maxPayload, errChecksum)
	}
	n = headerSize + int(length)
	if len(b) < n {
		return 0, nil, n, errShort
	}
	if got, want := recordCRC(b[:n]), binary.LittleEndian.Uint32(b[4:8]); got != want {
		return 0, nil, n, errChecksum
	}
	typ = b[8]
	if typ < recordEntry || typ > recordReset {
		return 0, nil, n, fmt.Errorf("unknown record type %d: %w", typ, raft.ErrCorrupt)
	}
	return typ, b[headerSize:n], n, nil
}

// mark is the payload of recordCompact and recordReset.
type mark struct{ index, term uint64 }

func encodeMark(m mark) []byte {
	b := make([]byte, markSize)
	binary.LittleEndian.PutUint64(b[0:8], m.index)
	binary.LittleEndian.PutUint64(b[8:16], m.term)
	return b
}

func decodeMark(b []byte) (mark, error) {
	if len(b) != markSize {
		return mark{}, fmt.Errorf("mark payload of %d bytes, want %d: %w", len(b), markSize, raft.ErrCorrupt)
	}
	return mark{binary.LittleEndian.Uint64(b[0:8]), binary.LittleEndian.Uint64(b[8:16])}, nil
}

func decodeEntry(b []byte) (*raftpb.Entry, error) {
	e := &raftpb.Entry{}
	if err := proto.Unmarshal(b, e); err != nil {
		return nil, fmt.Errorf("entry: %v: %w", err, raft.ErrCorrupt)
	}
	return e, nil
}

func decodeHardState(b []byte) (*raftpb.HardState, error) {
	hs := &raftpb.HardState{}
	if err := proto.Unmarshal(b, hs); err != nil {
		return nil, fmt.Errorf("hard state: %v: %w", err, raft.ErrCorrupt)
	}
	return hs, nil
}
