//go:build !linux

package vfs

import "os"

func osFile(f File) (*os.File, bool) { return nil, false }

func writeVectorOS(f *os.File, bufs [][]byte, off int64) (int, error) {
	return writeEach(f, bufs, off)
}
