package superblock

import (
	"encoding/binary"
	"errors"
	"fmt"

	"weedfs.dev/weed/storage/needle"
)

// Size is the length of the fixed part of a super block.
const Size = 8

// align is the needle alignment the first needle must respect.
const align = 8

// maxExtra is the largest Extra the 2-byte ExtraSize field can describe.
const maxExtra = 1<<16 - 1

// ErrCorrupt is wrapped by every super block decoding error.
var ErrCorrupt = errors.New("superblock: corrupt")

// SuperBlock is the header of a volume .dat file.
type SuperBlock struct {
	Version            needle.Version
	Placement          ReplicaPlacement
	TTL                needle.TTL
	CompactionRevision uint16
	// Extra is SeaweedFS's SuperBlockExtra protobuf, kept opaque. Version 1
	// has none: Bytes drops it there.
	Extra []byte
}

// extraLen is the number of Extra bytes Bytes writes.
func (s SuperBlock) extraLen() int {
	if s.Version == needle.Version1 {
		return 0
	}
	return min(len(s.Extra), maxExtra)
}

// Len returns where the first needle starts: 8 bytes, plus Extra, rounded
// up to a multiple of 8. It equals len(s.Bytes()).
func (s SuperBlock) Len() int {
	n := Size + s.extraLen()
	return (n + align - 1) / align * align
}

// Bytes encodes the super block followed by Extra and zero padding up to
// Len. Extra longer than 65535 bytes is cut to fit its length field; callers
// check with Validate first.
func (s SuperBlock) Bytes() []byte {
	b := make([]byte, s.Len())
	b[0] = byte(s.Version)
	b[1] = s.Placement.Byte()
	t := s.TTL.Bytes()
	b[2], b[3] = t[0], t[1]
	binary.BigEndian.PutUint16(b[4:6], s.CompactionRevision)
	n := s.extraLen()
	binary.BigEndian.PutUint16(b[6:8], uint16(n))
	copy(b[Size:], s.Extra[:n])
	return b
}

// Validate reports whether s can be encoded without loss.
func (s SuperBlock) Validate() error {
	if !s.Version.Valid() {
		return fmt.Errorf("superblock: version %d: %w", s.Version, needle.ErrVersion)
	}
	if !s.Placement.Valid() {
		return fmt.Errorf("superblock: placement %s: %w", s.Placement, ErrBadPlacement)
	}
	if !s.TTL.Unit.Valid() {
		return fmt.Errorf("superblock: ttl unit %d: %w", s.TTL.Unit, needle.ErrBadTTL)
	}
	if len(s.Extra) > maxExtra {
		return fmt.Errorf("superblock: extra of %d bytes (max %d): %w", len(s.Extra), maxExtra, needle.ErrTooLarge)
	}
	if s.Version == needle.Version1 && len(s.Extra) > 0 {
		return fmt.Errorf("superblock: version 1 has no extra: %w", needle.ErrVersion)
	}
	return nil
}

// Parse decodes a super block from the start of b, which must hold the 8
// fixed bytes and all of Extra (padding after Extra may be absent). Extra
// aliases b. Every error wraps ErrCorrupt.
func Parse(b []byte) (SuperBlock, error) {
	if len(b) < Size {
		return SuperBlock{}, fmt.Errorf("%d bytes, want %d: %w", len(b), Size, ErrCorrupt)
	}
	s := SuperBlock{Version: needle.Version(b[0])}
	if !s.Version.Valid() {
		return SuperBlock{}, fmt.Errorf("version byte %d: %w", b[0], ErrCorrupt)
	}
	s.Placement = PlacementFromByte(b[1])
	t, err := needle.TTLFromBytes(b[2:4])
	if err != nil {
		return SuperBlock{}, fmt.Errorf("%w: %w", err, ErrCorrupt)
	}
	s.TTL = t
	s.CompactionRevision = binary.BigEndian.Uint16(b[4:6])
	if s.Version != needle.Version1 {
		n := int(binary.BigEndian.Uint16(b[6:8]))
		if n > len(b)-Size {
			return SuperBlock{}, fmt.Errorf("extra of %d bytes, have %d: %w", n, len(b)-Size, ErrCorrupt)
		}
		if n > 0 {
			s.Extra = b[Size : Size+n : Size+n]
		}
	}
	return s, nil
}
