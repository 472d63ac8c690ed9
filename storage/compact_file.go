package storage

import (
	"fmt"
	"os"

	"weedfs.dev/weed/storage/vfs"
)

// appendBufSize is how much an appendFile gathers before writing.
const appendBufSize = 1 << 20

// appendFile writes a new file front to back through a buffer, so copying
// many small records costs few writes.
type appendFile struct {
	name    string
	f       vfs.File
	written int64 // bytes in f
	buf     []byte
}

func createAppendFile(fsys vfs.FS, name string) (*appendFile, error) {
	f, err := fsys.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_TRUNC, filePerm)
	if err != nil {
		return nil, err
	}
	return &appendFile{name: name, f: f, buf: make([]byte, 0, appendBufSize)}, nil
}

// write appends b and returns the offset it starts at.
func (a *appendFile) write(b []byte) (int64, error) {
	off := a.written + int64(len(a.buf))
	if len(a.buf)+len(b) > cap(a.buf) {
		if err := a.flush(); err != nil {
			return 0, err
		}
		if len(b) > cap(a.buf) {
			if _, err := a.f.WriteAt(b, a.written); err != nil {
				return 0, fmt.Errorf("write %s: %w", a.name, err)
			}
			a.written += int64(len(b))
			return off, nil
		}
	}
	a.buf = append(a.buf, b...)
	return off, nil
}

// flush writes the buffered bytes.
func (a *appendFile) flush() error {
	if len(a.buf) == 0 {
		return nil
	}
	if _, err := a.f.WriteAt(a.buf, a.written); err != nil {
		return fmt.Errorf("write %s: %w", a.name, err)
	}
	a.written += int64(len(a.buf))
	a.buf = a.buf[:0]
	return nil
}
