package vfs

import (
	"fmt"
	"io"
)

// VectorWriterAt is a File that writes several buffers at an offset in one
// call (pwritev), sparing the caller the copy that would join them.
type VectorWriterAt interface {
	WriteVectorAt(bufs [][]byte, off int64) (int, error)
}

// WriteVectorAt writes bufs back to back at off, as one WriteAt of their
// concatenation would: with one system call when f can (an operating-system
// file on Linux), else one WriteAt per buffer, in order. Either way a crash
// may keep any part of it; callers rely on checksums, as for WriteAt.
func WriteVectorAt(f File, bufs [][]byte, off int64) (int, error) {
	if vw, ok := f.(VectorWriterAt); ok {
		return vw.WriteVectorAt(bufs, off)
	}
	if osf, ok := osFile(f); ok {
		return writeVectorOS(osf, bufs, off)
	}
	return writeEach(f, bufs, off)
}

// writeEach is WriteVectorAt one buffer at a time.
func writeEach(f io.WriterAt, bufs [][]byte, off int64) (int, error) {
	total := 0
	for _, b := range bufs {
		n, err := f.WriteAt(b, off+int64(total))
		total += n
		if err != nil {
			return total, err
		}
		if n < len(b) {
			return total, fmt.Errorf("write at %d: %w", off+int64(total), io.ErrShortWrite)
		}
	}
	return total, nil
}
