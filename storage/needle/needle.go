package needle

import (
	"errors"
	"fmt"
)

// Version is the needle format version recorded in a volume's super block.
type Version uint8

// Needle format versions. Version 3 adds the AppendAtNs timestamp.
const (
	Version1       Version = 1
	Version2       Version = 2
	Version3       Version = 3
	CurrentVersion         = Version3
)

// Valid reports whether v is a version this package can read and write.
func (v Version) Valid() bool { return v >= Version1 && v <= Version3 }

// Flag bits stored in the Flags byte of a version 2 or 3 needle body.
const (
	FlagGzip            uint8 = 0x01 // Data is gzip-compressed
	FlagHasName         uint8 = 0x02
	FlagHasMime         uint8 = 0x04
	FlagHasLastModified uint8 = 0x08
	FlagHasTTL          uint8 = 0x10
	FlagHasPairs        uint8 = 0x20
	FlagChunkManifest   uint8 = 0x80 // Data is a JSON chunk manifest
)

// Sizes of the fixed parts of a record.
const (
	HeaderSize       = 16 // Cookie, ID, Size
	ChecksumSize     = 4
	TimestampSize    = 8 // AppendAtNs, version 3 only
	PaddingAlign     = 8 // record length is a multiple of this
	DataSizeSize     = 4
	flagsSize        = 1
	lastModifiedSize = 5
	ttlSize          = 2
	pairsSizeSize    = 2
)

// Limits on the variable-length fields, set by the widths of their length
// fields on disk.
const (
	MaxNameLen  = 255
	MaxMimeLen  = 255
	MaxPairsLen = 1<<16 - 1
	// MaxSize is the largest Size field: SeaweedFS reads it as an int32.
	MaxSize = 1<<31 - 1
	// maxLastModified is the largest value the 5-byte field can hold.
	maxLastModified = 1<<40 - 1
)

// Errors. Every decoding failure wraps ErrCorrupt; a checksum mismatch wraps
// ErrChecksum, which itself wraps ErrCorrupt.
var (
	ErrCorrupt  = errors.New("needle: corrupt")
	ErrChecksum = fmt.Errorf("%w: checksum mismatch", ErrCorrupt)
	// ErrTooLarge is returned by Append when a field does not fit its
	// length field on disk.
	ErrTooLarge = errors.New("needle: field too large")
	// ErrVersion is returned for a version this package does not know.
	ErrVersion = errors.New("needle: unsupported version")
)

// Needle is one blob record. Byte slices returned by Decode alias the input.
type Needle struct {
	Cookie uint32
	ID     uint64
	// Size is the header Size field: the body length. Append computes it.
	Size         uint32
	Data         []byte
	Flags        uint8
	Name         []byte
	Mime         []byte
	LastModified uint64 // unix seconds; 5 bytes on disk
	TTL          TTL
	Pairs        []byte // JSON object of extra headers
	// Checksum is the CRC-32C of Data as stored. Append computes it when
	// Data is non-empty and keeps it as given otherwise (a tombstone keeps
	// the deleted needle's checksum, as SeaweedFS does).
	Checksum   uint32
	AppendAtNs uint64 // version 3 only
}

// IsGzipped reports whether Data is gzip-compressed.
func (n *Needle) IsGzipped() bool { return n.Flags&FlagGzip != 0 }

// IsChunkManifest reports whether Data is a chunk manifest.
func (n *Needle) IsChunkManifest() bool { return n.Flags&FlagChunkManifest != 0 }

// HasName reports whether the name flag is set.
func (n *Needle) HasName() bool { return n.Flags&FlagHasName != 0 }

// HasMime reports whether the mime flag is set.
func (n *Needle) HasMime() bool { return n.Flags&FlagHasMime != 0 }

// HasLastModified reports whether the last-modified flag is set.
func (n *Needle) HasLastModified() bool { return n.Flags&FlagHasLastModified != 0 }

// HasTTL reports whether the TTL flag is set.
func (n *Needle) HasTTL() bool { return n.Flags&FlagHasTTL != 0 }

// HasPairs reports whether the pairs flag is set.
func (n *Needle) HasPairs() bool { return n.Flags&FlagHasPairs != 0 }

// SetGzipped marks Data as gzip-compressed.
func (n *Needle) SetGzipped() { n.Flags |= FlagGzip }

// SetChunkManifest marks Data as a chunk manifest.
func (n *Needle) SetChunkManifest() { n.Flags |= FlagChunkManifest }

// SetName sets the name and its flag.
func (n *Needle) SetName(name []byte) { n.Name = name; n.Flags |= FlagHasName }

// SetMime sets the mime type and its flag.
func (n *Needle) SetMime(mime []byte) { n.Mime = mime; n.Flags |= FlagHasMime }

// SetLastModified sets the modification time (unix seconds) and its flag.
func (n *Needle) SetLastModified(sec uint64) { n.LastModified = sec; n.Flags |= FlagHasLastModified }

// SetTTL sets the TTL and its flag.
func (n *Needle) SetTTL(t TTL) { n.TTL = t; n.Flags |= FlagHasTTL }

// SetPairs sets the JSON pairs and their flag.
func (n *Needle) SetPairs(pairs []byte) { n.Pairs = pairs; n.Flags |= FlagHasPairs }

// IsEmpty reports whether the needle has no body (Size 0): an empty file or
// a tombstone; which one is known only from the index.
func (n *Needle) IsEmpty() bool { return n.Size == 0 }

// PaddingLen returns the number of padding bytes after a record whose header
// Size field is size: 1..8, never 0, as SeaweedFS computes it.
func PaddingLen(size uint32, v Version) int {
	n := int64(HeaderSize) + int64(size) + ChecksumSize
	if v == Version3 {
		n += TimestampSize
	}
	return PaddingAlign - int(n%PaddingAlign)
}

// RecordLen returns the length on disk, padding included, of a record whose
// header Size field is size. A tombstone (Size 0) is 32 bytes in version 3.
// size is the needle's Size field, not the index's tombstone marker.
func RecordLen(size uint32, v Version) int64 {
	n := int64(HeaderSize) + int64(size) + ChecksumSize
	if v == Version3 {
		n += TimestampSize
	}
	return n + int64(PaddingLen(size, v))
}
