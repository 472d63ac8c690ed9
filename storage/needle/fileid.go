package needle

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ErrBadFileID is wrapped by every file id parsing error.
var ErrBadFileID = errors.New("needle: bad file id")

// Lengths of the hex key+cookie part of a file id.
const (
	cookieHexLen  = 8
	maxKeyHexLen  = 16
	maxKeyCookieH = maxKeyHexLen + cookieHexLen
)

// FileID names one needle: "<volume>,<key hex><cookie hex>".
type FileID struct {
	VolumeID uint32
	Key      uint64
	Cookie   uint32
}

// ParseFileID parses "3,01637037d6". The part after the first "," may carry
// an extension (".jpg", stripped from the first dot) and a "_N" decimal delta added to the key,
// as ids reserved by an assign with count=N are written.
func ParseFileID(s string) (FileID, error) {
	vol, rest, ok := strings.Cut(s, ",")
	if !ok {
		return FileID{}, fmt.Errorf("%q: no comma: %w", s, ErrBadFileID)
	}
	vid, err := strconv.ParseUint(vol, 10, 32)
	if err != nil {
		return FileID{}, fmt.Errorf("%q: volume id: %w", s, ErrBadFileID)
	}
	// SeaweedFS strips from the last "."; a key and cookie never hold a
	// dot, so stripping from the first accepts the same ids and also
	// "x.tar.gz".
	if dot := strings.IndexByte(rest, '.'); dot >= 0 {
		rest = rest[:dot]
	}
	key, cookie, err := ParseKeyCookie(rest)
	if err != nil {
		return FileID{}, err
	}
	return FileID{VolumeID: uint32(vid), Key: key, Cookie: cookie}, nil
}

// ParseKeyCookie parses the "<key hex><cookie hex>[_N]" part of a file id:
// more than 8 and at most 24 hex digits, the last 8 the cookie, and an
// optional decimal delta added to the key.
func ParseKeyCookie(s string) (key uint64, cookie uint32, err error) {
	hexPart, delta := s, ""
	if i := strings.LastIndexByte(s, '_'); i >= 0 {
		hexPart, delta = s[:i], s[i+1:]
	}
	if len(hexPart) <= cookieHexLen {
		return 0, 0, fmt.Errorf("%q: key and cookie too short: %w", s, ErrBadFileID)
	}
	if len(hexPart) > maxKeyCookieH {
		return 0, 0, fmt.Errorf("%q: key and cookie too long: %w", s, ErrBadFileID)
	}
	split := len(hexPart) - cookieHexLen
	key, err = strconv.ParseUint(hexPart[:split], 16, 64)
	if err != nil {
		return 0, 0, fmt.Errorf("%q: key: %w", s, ErrBadFileID)
	}
	c, err := strconv.ParseUint(hexPart[split:], 16, 32)
	if err != nil {
		return 0, 0, fmt.Errorf("%q: cookie: %w", s, ErrBadFileID)
	}
	if delta != "" || len(s) != len(hexPart) {
		d, err := strconv.ParseUint(delta, 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("%q: delta: %w", s, ErrBadFileID)
		}
		if d > math.MaxUint64-key {
			return 0, 0, fmt.Errorf("%q: key plus delta overflows: %w", s, ErrBadFileID)
		}
		key += d
	}
	return key, uint32(c), nil
}

// FormatKeyCookie writes key as 8 big-endian bytes and cookie as 4, drops
// the leading zero bytes of the key only, and returns the rest in lower-case
// hex: key 1, cookie 0x0c18c0eb gives "010c18c0eb".
func FormatKeyCookie(key uint64, cookie uint32) string {
	var b [12]byte
	binary.BigEndian.PutUint64(b[:8], key)
	binary.BigEndian.PutUint32(b[8:], cookie)
	i := 0
	for i < 8 && b[i] == 0 {
		i++
	}
	return hex.EncodeToString(b[i:])
}

// String returns the text form "3,01637037d6".
func (f FileID) String() string {
	return strconv.FormatUint(uint64(f.VolumeID), 10) + "," + FormatKeyCookie(f.Key, f.Cookie)
}
