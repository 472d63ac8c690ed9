package vfs

import (
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

func osFile(f File) (*os.File, bool) {
	osf, ok := f.(*os.File)
	return osf, ok
}

// writeVectorOS writes bufs at off with pwritev, again for what a short
// write left.
func writeVectorOS(f *os.File, bufs [][]byte, off int64) (int, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return writeEach(f, bufs, off)
	}
	total := 0
	for {
		for len(bufs) > 0 && len(bufs[0]) == 0 {
			bufs = bufs[1:]
		}
		if len(bufs) == 0 {
			return total, nil
		}
		var n int
		var werr error
		if err := rc.Write(func(fd uintptr) bool {
			n, werr = unix.Pwritev(int(fd), bufs, off+int64(total))
			return werr != unix.EAGAIN
		}); err != nil {
			return total, fmt.Errorf("pwritev %s: %w", f.Name(), err)
		}
		if werr == unix.EINTR {
			continue
		}
		if werr != nil {
			return total, &os.PathError{Op: "pwritev", Path: f.Name(), Err: werr}
		}
		if n == 0 {
			return total, fmt.Errorf("pwritev %s at %d: %w", f.Name(), off+int64(total), io.ErrShortWrite)
		}
		total += n
		// Drop what was written.
		for n > 0 {
			if n >= len(bufs[0]) {
				n -= len(bufs[0])
				bufs = bufs[1:]
				continue
			}
			bufs = append([][]byte{bufs[0][n:]}, bufs[1:]...)
			n = 0
		}
	}
}
