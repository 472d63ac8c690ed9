package needle

import (
	"encoding/binary"
	"fmt"
)

// bodyLen returns the body length (the header Size field) Append will write
// for n in version v, after checking every field fits its length field.
func (n *Needle) bodyLen(v Version) (int64, error) {
	if !v.Valid() {
		return 0, fmt.Errorf("version %d: %w", v, ErrVersion)
	}
	if len(n.Data) == 0 {
		// SeaweedFS writes no body at all for empty data: the metadata of
		// an empty file is not stored.
		return 0, nil
	}
	if v == Version1 {
		if n.Flags != 0 || len(n.Name) > 0 || len(n.Mime) > 0 || n.LastModified != 0 || !n.TTL.IsEmpty() || len(n.Pairs) > 0 {
			return 0, fmt.Errorf("version 1 has no flags or metadata: %w", ErrVersion)
		}
		if int64(len(n.Data)) > MaxSize {
			return 0, fmt.Errorf("data of %d bytes: %w", len(n.Data), ErrTooLarge)
		}
		return int64(len(n.Data)), nil
	}
	size := int64(DataSizeSize) + int64(len(n.Data)) + flagsSize
	flags := n.encodedFlags()
	if flags&FlagHasName != 0 {
		if len(n.Name) > MaxNameLen {
			return 0, fmt.Errorf("name of %d bytes (max %d): %w", len(n.Name), MaxNameLen, ErrTooLarge)
		}
		size += 1 + int64(len(n.Name))
	}
	if flags&FlagHasMime != 0 {
		if len(n.Mime) > MaxMimeLen {
			return 0, fmt.Errorf("mime of %d bytes (max %d): %w", len(n.Mime), MaxMimeLen, ErrTooLarge)
		}
		size += 1 + int64(len(n.Mime))
	}
	if flags&FlagHasLastModified != 0 {
		if n.LastModified > maxLastModified {
			return 0, fmt.Errorf("last modified %d does not fit 5 bytes: %w", n.LastModified, ErrTooLarge)
		}
		size += lastModifiedSize
	}
	if flags&FlagHasTTL != 0 {
		size += ttlSize
	}
	if flags&FlagHasPairs != 0 {
		if len(n.Pairs) > MaxPairsLen {
			return 0, fmt.Errorf("pairs of %d bytes (max %d): %w", len(n.Pairs), MaxPairsLen, ErrTooLarge)
		}
		size += pairsSizeSize + int64(len(n.Pairs))
	}
	if size > MaxSize {
		return 0, fmt.Errorf("body of %d bytes (max %d): %w", size, MaxSize, ErrTooLarge)
	}
	return size, nil
}

// encodedFlags returns the flags Append writes: n.Flags plus the flag of
// every optional field that is set, so a caller that fills Name without
// SetName still gets it stored.
func (n *Needle) encodedFlags() uint8 {
	f := n.Flags
	if len(n.Name) > 0 {
		f |= FlagHasName
	}
	if len(n.Mime) > 0 {
		f |= FlagHasMime
	}
	if n.LastModified != 0 {
		f |= FlagHasLastModified
	}
	if !n.TTL.IsEmpty() {
		f |= FlagHasTTL
	}
	if len(n.Pairs) > 0 {
		f |= FlagHasPairs
	}
	return f
}

// EncodedLen returns the number of bytes Append would add for n in version
// v, or an error if n cannot be encoded.
func (n *Needle) EncodedLen(v Version) (int64, error) {
	size, err := n.bodyLen(v)
	if err != nil {
		return 0, err
	}
	return RecordLen(uint32(size), v), nil
}

// Append encodes the whole record (header, body, checksum, version 3
// timestamp, zero padding) in version v and appends it to dst. It sets
// n.Size, and n.Checksum and n.Flags when Data is non-empty. On error dst is
// returned unchanged.
func (n *Needle) Append(dst []byte, v Version) ([]byte, error) {
	out, _, err := n.encode(dst, v, true, nil)
	return out, err
}

// AppendAround is Append without copying the data: it appends the record's
// bytes before n.Data and after it, and returns the index in the result
// where the data belongs. The record is out[len(dst):split], then n.Data,
// then out[split:]. A large blob is written to disk from the buffer it
// arrived in this way (a vectored write), never copied into a record
// buffer. It sets n's fields as Append does.
func (n *Needle) AppendAround(dst []byte, v Version) (out []byte, split int, err error) {
	return n.encode(dst, v, false, nil)
}

// AppendAroundChecksum is AppendAround for data whose CRC (see UpdateCRC)
// the caller computed as the bytes arrived, sparing a second pass over a
// large blob. The checksum is stored as given: a wrong one makes every read
// of the record fail its check.
func (n *Needle) AppendAroundChecksum(dst []byte, v Version, crc uint32) (out []byte, split int, err error) {
	return n.encode(dst, v, false, &crc)
}

// encode is Append (withData) or AppendAround, with the data's CRC computed
// here unless crc gives it.
func (n *Needle) encode(dst []byte, v Version, withData bool, crc *uint32) ([]byte, int, error) {
	size, err := n.bodyLen(v)
	if err != nil {
		return dst, 0, err
	}
	n.Size = uint32(size)
	if len(n.Data) > 0 {
		if crc != nil {
			n.Checksum = *crc
		} else {
			n.Checksum = CRC(n.Data)
		}
		if v != Version1 {
			n.Flags = n.encodedFlags()
		}
	}
	total := int(RecordLen(n.Size, v))
	if !withData {
		total -= len(n.Data)
	}
	start := len(dst)
	dst = grow(dst, total)
	b := dst[start:]

	binary.BigEndian.PutUint32(b[0:4], n.Cookie)
	binary.BigEndian.PutUint64(b[4:12], n.ID)
	binary.BigEndian.PutUint32(b[12:16], n.Size)
	i := HeaderSize
	split := start + i
	if n.Size > 0 {
		if v == Version1 {
			if withData {
				i += copy(b[i:], n.Data)
			}
		} else {
			i, split = n.putBody(b, i, withData)
			split += start
		}
	}
	binary.BigEndian.PutUint32(b[i:], n.Checksum)
	i += ChecksumSize
	if v == Version3 {
		binary.BigEndian.PutUint64(b[i:], n.AppendAtNs)
		i += TimestampSize
	}
	clear(b[i:])
	return dst, split, nil
}

// putBody writes the version 2/3 body of n into b at i and returns the
// index after it, and the index where the data starts. Without withData the
// data is left out (see AppendAround). b has room: bodyLen checked every
// length.
func (n *Needle) putBody(b []byte, i int, withData bool) (end, dataAt int) {
	binary.BigEndian.PutUint32(b[i:], uint32(len(n.Data)))
	i += DataSizeSize
	dataAt = i
	if withData {
		i += copy(b[i:], n.Data)
	}
	b[i] = n.Flags
	i++
	if n.HasName() {
		b[i] = uint8(len(n.Name))
		i++
		i += copy(b[i:], n.Name)
	}
	if n.HasMime() {
		b[i] = uint8(len(n.Mime))
		i++
		i += copy(b[i:], n.Mime)
	}
	if n.HasLastModified() {
		lm := n.LastModified
		b[i], b[i+1], b[i+2], b[i+3], b[i+4] = byte(lm>>32), byte(lm>>24), byte(lm>>16), byte(lm>>8), byte(lm)
		i += lastModifiedSize
	}
	if n.HasTTL() {
		tb := n.TTL.Bytes()
		i += copy(b[i:], tb[:])
	}
	if n.HasPairs() {
		binary.BigEndian.PutUint16(b[i:], uint16(len(n.Pairs)))
		i += pairsSizeSize
		i += copy(b[i:], n.Pairs)
	}
	return i, dataAt
}

// grow extends dst by n bytes, reallocating at most once.
func grow(dst []byte, n int) []byte {
	if cap(dst)-len(dst) < n {
		nd := make([]byte, len(dst), len(dst)+n)
		copy(nd, dst)
		dst = nd
	}
	return dst[:len(dst)+n]
}
