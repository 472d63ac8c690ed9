package volume

import (
	"bytes"
	"unsafe"
)

// Placing a large body in memory at its offset in the volume file.
//
// The main cost of storing a large blob is the kernel's copy of it into
// the page cache (pwritev). Its data starts in .dat after a 20-byte record
// header, so a body read to the start of a buffer (page aligned) is copied
// with source and destination differently aligned, which on this machine
// (AMD EPYC, rep movsb) costs ~25-40% more kernel time than a copy whose
// two sides agree modulo a cache line, ~20% more CPU for the whole 4 MiB
// append (storage's BenchmarkVolumeWriteAligned). A raw body is therefore read copyAlign
// bytes or less into its buffer, to the offset that agrees with where
// storage.Volume.NextDataOffset says its data will land.
const (
	// copyAlign is the granularity at which source and destination
	// must agree: a cache line.
	copyAlign = 64
	// minAlignedBody is the body size from which placing pays: storage
	// writes smaller needles from a record buffer it copies them into.
	minAlignedBody = 64 << 10
)

// alignedStart makes room for n bytes and copyAlign more in buf and
// returns the offset, below copyAlign, in that room at which a byte's
// address agrees with diskAt modulo copyAlign. (handleWrite gets bodies
// from the pool copyAlign bytes larger than their length, so the room is
// there without growing.)
func alignedStart(buf *bytes.Buffer, n int, diskAt int64) int {
	buf.Grow(n + copyAlign)
	room := buf.AvailableBuffer()
	addr := int64(uintptr(unsafe.Pointer(unsafe.SliceData(room[:1]))) % copyAlign)
	return int(((diskAt-addr)%copyAlign + copyAlign) % copyAlign)
}
