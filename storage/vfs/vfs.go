package vfs

import (
	"io"
	"os"
)

// File is an open file. *os.File implements it.
//
// Read and Write share the file offset; ReadAt and WriteAt do not use it.
// With O_APPEND every Write goes to the end of the file.
type File interface {
	io.Reader
	io.ReaderAt
	io.Writer
	io.WriterAt
	io.Closer
	// Sync makes the content (and, in CrashFS, the file's own name) durable.
	Sync() error
	// Truncate changes the size of the file; growing fills with zeros.
	Truncate(size int64) error
	// Stat describes the open file; Size is the current length.
	Stat() (os.FileInfo, error)
}

// FS is the set of file system calls volumes use. Names are slash or OS
// paths as filepath understands them.
type FS interface {
	// OpenFile opens name with os.O_* flags, as os.OpenFile does.
	OpenFile(name string, flag int, perm os.FileMode) (File, error)
	// Remove removes a file or an empty directory.
	Remove(name string) error
	// Rename moves oldname to newname, replacing newname if it exists.
	Rename(oldname, newname string) error
	// Stat describes a file or directory.
	Stat(name string) (os.FileInfo, error)
	// ReadDir lists a directory sorted by name.
	ReadDir(dir string) ([]os.DirEntry, error)
	// MkdirAll creates dir and any missing parents.
	MkdirAll(dir string, perm os.FileMode) error
	// SyncDir makes the creates, renames and removes done in dir durable.
	// Call it after creating, renaming or removing a file whose name must
	// survive a crash.
	SyncDir(dir string) error
}

// Default returns the real operating-system file system.
func Default() FS { return OS{} }
