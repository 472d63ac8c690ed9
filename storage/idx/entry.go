package idx

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Format constants.
const (
	EntrySize = 16
	// Tombstone is the Size of an entry that records a deletion.
	Tombstone uint32 = 0xFFFFFFFF
	// OffsetUnit is the granularity of Offset: needles are 8-aligned.
	OffsetUnit = 8
	// MaxVolumeSize is the largest .dat a 4-byte Offset can address.
	MaxVolumeSize = 32 << 30
)

// Errors.
var (
	// ErrCorrupt is wrapped by decoding errors, including a torn tail.
	ErrCorrupt = errors.New("idx: corrupt")
	// ErrBadOffset is returned by ToOffset for an offset no entry can hold.
	ErrBadOffset = errors.New("idx: bad offset")
)

// Entry is one index record.
type Entry struct {
	Key    uint64
	Offset uint32 // in OffsetUnit bytes
	Size   uint32 // the needle's Size field, or Tombstone
}

// Append encodes e and appends its 16 bytes to dst.
func (e Entry) Append(dst []byte) []byte {
	var b [EntrySize]byte
	e.put(b[:])
	return append(dst, b[:]...)
}

// put writes e into b, which has at least EntrySize bytes.
func (e Entry) put(b []byte) {
	binary.BigEndian.PutUint64(b[0:8], e.Key)
	binary.BigEndian.PutUint32(b[8:12], e.Offset)
	binary.BigEndian.PutUint32(b[12:16], e.Size)
}

// Decode decodes the entry in the first 16 bytes of b.
func Decode(b []byte) (Entry, error) {
	if len(b) < EntrySize {
		return Entry{}, fmt.Errorf("entry of %d bytes, want %d: %w", len(b), EntrySize, ErrCorrupt)
	}
	return decode(b), nil
}

// decode reads an entry from b, which has at least EntrySize bytes.
func decode(b []byte) Entry {
	_ = b[EntrySize-1]
	return Entry{
		Key:    binary.BigEndian.Uint64(b[0:8]),
		Offset: binary.BigEndian.Uint32(b[8:12]),
		Size:   binary.BigEndian.Uint32(b[12:16]),
	}
}

// IsDeleted reports whether e records a deletion. Like SeaweedFS, which
// reads Size as an int32, any negative size counts, not only Tombstone.
func (e Entry) IsDeleted() bool { return int32(e.Size) < 0 }

// ActualOffset returns the needle's byte offset in the .dat.
func (e Entry) ActualOffset() int64 { return int64(e.Offset) * OffsetUnit }

// ToOffset converts a byte offset in the .dat to an entry Offset. It must be
// 8-aligned and below MaxVolumeSize.
func ToOffset(actual int64) (uint32, error) {
	if actual < 0 || actual%OffsetUnit != 0 {
		return 0, fmt.Errorf("offset %d not a multiple of %d: %w", actual, OffsetUnit, ErrBadOffset)
	}
	if actual >= MaxVolumeSize {
		return 0, fmt.Errorf("offset %d past the %d-byte volume limit: %w", actual, int64(MaxVolumeSize), ErrBadOffset)
	}
	return uint32(actual / OffsetUnit), nil
}
