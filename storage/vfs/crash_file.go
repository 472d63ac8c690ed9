package vfs

import (
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// crashFile is an open handle on a CrashFS inode.
type crashFile struct {
	fs     *CrashFS
	ino    *inode
	name   string
	flag   int
	pos    int64 // offset of Read and Write
	closed bool
}

var _ File = (*crashFile)(nil)

func (f *crashFile) writable() bool {
	return f.flag&(os.O_WRONLY|os.O_RDWR) != 0
}

func (f *crashFile) readable() bool {
	return f.flag&os.O_WRONLY == 0
}

// begin checks the handle for a call; counted calls are operations.
// f.fs.mu must be held.
func (f *crashFile) begin(op string, counted bool) error {
	if f.closed {
		return pathErr(op, f.name, os.ErrClosed)
	}
	var err error
	if counted {
		err = f.fs.step()
	} else {
		err = f.fs.alive()
	}
	if err != nil {
		return pathErr(op, f.name, err)
	}
	return nil
}

func (f *crashFile) Read(p []byte) (int, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	n, err := f.readAt("read", p, f.pos)
	f.pos += int64(n)
	return n, err
}

func (f *crashFile) ReadAt(p []byte, off int64) (int, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	return f.readAt("readat", p, off)
}

func (f *crashFile) readAt(op string, p []byte, off int64) (int, error) {
	if err := f.begin(op, false); err != nil {
		return 0, err
	}
	if !f.readable() {
		return 0, pathErr(op, f.name, errWriteOnly)
	}
	if off < 0 {
		return 0, pathErr(op, f.name, errNegative)
	}
	if off >= int64(len(f.ino.data)) {
		return 0, io.EOF
	}
	n := copy(p, f.ino.data[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (f *crashFile) Write(p []byte) (int, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	off := f.pos
	if f.flag&os.O_APPEND != 0 {
		off = int64(len(f.ino.data))
	}
	n, err := f.writeAt("write", p, off)
	f.pos = off + int64(n)
	return n, err
}

func (f *crashFile) WriteAt(p []byte, off int64) (int, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if f.flag&os.O_APPEND != 0 {
		return 0, pathErr("writeat", f.name, errAppendAt)
	}
	return f.writeAt("writeat", p, off)
}

func (f *crashFile) writeAt(op string, p []byte, off int64) (int, error) {
	if err := f.begin(op, true); err != nil {
		return 0, err
	}
	if !f.writable() {
		return 0, pathErr(op, f.name, errReadOnly)
	}
	if off < 0 {
		return 0, pathErr(op, f.name, errNegative)
	}
	f.ino.apply(change{off: off, data: append([]byte(nil), p...)})
	return len(p), nil
}

func (f *crashFile) Truncate(size int64) error {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.begin("truncate", true); err != nil {
		return err
	}
	if !f.writable() {
		return pathErr("truncate", f.name, errReadOnly)
	}
	if size < 0 {
		return pathErr("truncate", f.name, errNegative)
	}
	f.ino.apply(change{truncate: true, off: size})
	return nil
}

// Sync makes the content durable, and with it every create, rename and
// remove that concerned this file.
func (f *crashFile) Sync() error {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.begin("sync", true); err != nil {
		return err
	}
	f.fs.syncInode(f.ino)
	return nil
}

func (f *crashFile) Stat() (os.FileInfo, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.begin("stat", false); err != nil {
		return nil, err
	}
	return fileInfo{name: filepath.Base(f.name), size: int64(len(f.ino.data))}, nil
}

// Close releases the handle. It always succeeds, even after a crash.
func (f *crashFile) Close() error {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	f.closed = true
	return nil
}

// fileInfo describes a CrashFS file or directory.
type fileInfo struct {
	name string
	size int64
	dir  bool
}

func (fi fileInfo) Name() string { return fi.name }
func (fi fileInfo) Size() int64  { return fi.size }
func (fi fileInfo) Mode() fs.FileMode {
	if fi.dir {
		return fs.ModeDir | 0o755
	}
	return 0o644
}
func (fi fileInfo) ModTime() time.Time { return time.Time{} }
func (fi fileInfo) IsDir() bool        { return fi.dir }
func (fi fileInfo) Sys() any           { return nil }
