package needle

import (
	"errors"
	"fmt"
	"strconv"
	"time"
)

// TTLUnit is the unit byte of a stored TTL.
type TTLUnit uint8

// TTL unit codes as stored on disk, and their letters in text form.
const (
	TTLEmpty  TTLUnit = 0
	TTLMinute TTLUnit = 1 // "m"
	TTLHour   TTLUnit = 2 // "h"
	TTLDay    TTLUnit = 3 // "d"
	TTLWeek   TTLUnit = 4 // "w"
	TTLMonth  TTLUnit = 5 // "M", 30 days
	TTLYear   TTLUnit = 6 // "y", 365 days
)

// TTLSize is the length of a stored TTL: count, unit.
const TTLSize = 2

// ErrBadTTL is wrapped by every TTL parsing error.
var ErrBadTTL = errors.New("needle: bad ttl")

// unitLetters maps unit codes to their letters; index is the code.
const unitLetters = " mhdwMy"

// Minutes returns the length of one unit in minutes (a month is 30 days, a
// year 365, as in SeaweedFS); 0 for the empty or an unknown unit.
func (u TTLUnit) Minutes() uint32 {
	switch u {
	case TTLMinute:
		return 1
	case TTLHour:
		return 60
	case TTLDay:
		return 60 * 24
	case TTLWeek:
		return 60 * 24 * 7
	case TTLMonth:
		return 60 * 24 * 30
	case TTLYear:
		return 60 * 24 * 365
	}
	return 0
}

// TTL is a time to live: Count units. The zero value means none.
type TTL struct {
	Count uint8
	Unit  TTLUnit
}

// ParseTTL parses "3m", "4h", "5d", "6w", "7M", "8y"; a bare number is
// minutes and "" is no TTL. The count must fit a byte. A count of 0 gives
// the empty TTL. Unlike SeaweedFS, which stores an unknown unit as "no TTL",
// an unknown unit is an error.
func ParseTTL(s string) (TTL, error) {
	if s == "" {
		return TTL{}, nil
	}
	unit := TTLMinute
	count := s
	if last := s[len(s)-1]; last < '0' || last > '9' {
		u := -1
		for i := 1; i < len(unitLetters); i++ {
			if unitLetters[i] == last {
				u = i
			}
		}
		if u < 0 {
			return TTL{}, fmt.Errorf("%q: unknown unit %q: %w", s, last, ErrBadTTL)
		}
		unit = TTLUnit(u)
		count = s[:len(s)-1]
	}
	c, err := strconv.ParseUint(count, 10, 8)
	if err != nil {
		return TTL{}, fmt.Errorf("%q: count must be 0..255: %w", s, ErrBadTTL)
	}
	if c == 0 {
		return TTL{}, nil
	}
	return TTL{Count: uint8(c), Unit: unit}, nil
}

// TTLFromBytes decodes a stored TTL (count, unit). An unknown unit byte is
// an error wrapping ErrBadTTL.
func TTLFromBytes(b []byte) (TTL, error) {
	if len(b) != TTLSize {
		return TTL{}, fmt.Errorf("%d bytes, want %d: %w", len(b), TTLSize, ErrBadTTL)
	}
	t := TTL{Count: b[0], Unit: TTLUnit(b[1])}
	if !t.Unit.Valid() {
		return TTL{}, fmt.Errorf("unit code %d: %w", b[1], ErrBadTTL)
	}
	return t, nil
}

// Valid reports whether u is a known unit code.
func (u TTLUnit) Valid() bool { return u <= TTLYear }

// Bytes returns the stored form: count, unit.
func (t TTL) Bytes() [TTLSize]byte { return [TTLSize]byte{t.Count, byte(t.Unit)} }

// IsEmpty reports whether t means no expiry.
func (t TTL) IsEmpty() bool { return t.Count == 0 || t.Unit == TTLEmpty || !t.Unit.Valid() }

// String returns the text form ("3m"), or "" for no TTL.
func (t TTL) String() string {
	if t.IsEmpty() {
		return ""
	}
	return strconv.Itoa(int(t.Count)) + unitLetters[t.Unit:t.Unit+1]
}

// Minutes returns the TTL in minutes (a month is 30 days, a year 365).
func (t TTL) Minutes() uint32 {
	if t.IsEmpty() {
		return 0
	}
	return uint32(t.Count) * t.Unit.Minutes()
}

// Duration returns the TTL as a time.Duration; 0 means none.
func (t TTL) Duration() time.Duration { return time.Duration(t.Minutes()) * time.Minute }
