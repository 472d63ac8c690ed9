package filer

import (
	"encoding/binary"
	"fmt"
	"strings"
	"sync/atomic"
	"time"
)

// Prefixes of the filer's bookkeeping keys in the store's KV space (see
// the package doc for the layout).
const (
	deletionPrefix = "dq/"
	uploadPrefix   = "up/"
	eventPrefix    = "ev/"
	// syncBarrierPrefix + filer id is written, synced, before queued
	// chunks are deleted (DrainDeletions).
	syncBarrierPrefix = "sb/"
	// timeKeyLen is the length of the time-ordered suffix of "dq/" and
	// "ev/" keys: 8 bytes of unix nanoseconds, 8 bytes of sequence.
	timeKeyLen = 16
	// maxFidLen bounds one fid in a list: "<uint32>,<uint64 hex><cookie hex>_<n>".
	maxFidLen = 64
)

// timeKeys hands out strictly increasing time-ordered keys, so events and
// queued deletions written in one process sort in the order they were made.
// The sequence half starts from a random value per process, so two filers
// sharing a store never write the same key in the same nanosecond.
type timeKeys struct {
	seq atomic.Uint64
}

// next returns prefix + ts + seq for time t.
func (k *timeKeys) next(prefix string, t time.Time) []byte {
	b := make([]byte, len(prefix)+timeKeyLen)
	copy(b, prefix)
	binary.BigEndian.PutUint64(b[len(prefix):], uint64(t.UnixNano()))
	binary.BigEndian.PutUint64(b[len(prefix)+8:], k.seq.Add(1))
	return b
}

// timeKey is the smallest key of prefix at or after t: a scan start.
func timeKey(prefix string, t time.Time) []byte {
	b := make([]byte, len(prefix)+timeKeyLen)
	copy(b, prefix)
	ns := t.UnixNano()
	if ns < 0 {
		ns = 0
	}
	binary.BigEndian.PutUint64(b[len(prefix):], uint64(ns))
	return b
}

// keyTime decodes the time of a time-ordered key.
func keyTime(prefix string, key []byte) (time.Time, error) {
	if len(key) != len(prefix)+timeKeyLen || string(key[:len(prefix)]) != prefix {
		return time.Time{}, fmt.Errorf("%w: key %q is not a %q time key", ErrCorrupt, key, prefix)
	}
	return time.Unix(0, int64(binary.BigEndian.Uint64(key[len(prefix):]))), nil
}

// encodeFids joins fids with '\n'.
func encodeFids(fids []string) []byte {
	return []byte(strings.Join(fids, "\n"))
}

// decodeFids splits a fid list, rejecting empty, over-long or non-fid
// items so a corrupt record is reported, not sent to volume servers.
func decodeFids(b []byte) ([]string, error) {
	if len(b) == 0 {
		return nil, nil
	}
	fids := strings.Split(string(b), "\n")
	for _, f := range fids {
		if !validFid(f) {
			return nil, fmt.Errorf("%w: %q in a fid list is not a fid", ErrCorrupt, f)
		}
	}
	return fids, nil
}

// validFid checks the shape "<decimal volume>,<hex key and cookie>[_n]".
func validFid(f string) bool {
	if len(f) == 0 || len(f) > maxFidLen {
		return false
	}
	comma := strings.IndexByte(f, ',')
	if comma <= 0 || comma == len(f)-1 {
		return false
	}
	for i := 0; i < comma; i++ {
		if f[i] < '0' || f[i] > '9' {
			return false
		}
	}
	for i := comma + 1; i < len(f); i++ {
		c := f[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' || c == '_') {
			return false
		}
	}
	return true
}
