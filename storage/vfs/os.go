package vfs

import (
	"fmt"
	"os"
)

// OS is the real file system of the operating system.
type OS struct{}

var _ FS = OS{}

// OpenFile opens name with os.OpenFile.
func (OS) OpenFile(name string, flag int, perm os.FileMode) (File, error) {
	f, err := os.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return f, nil
}

// Remove removes name with os.Remove.
func (OS) Remove(name string) error { return os.Remove(name) }

// Rename renames with os.Rename.
func (OS) Rename(oldname, newname string) error { return os.Rename(oldname, newname) }

// Stat describes name with os.Stat.
func (OS) Stat(name string) (os.FileInfo, error) { return os.Stat(name) }

// ReadDir lists dir with os.ReadDir.
func (OS) ReadDir(dir string) ([]os.DirEntry, error) { return os.ReadDir(dir) }

// MkdirAll creates dir with os.MkdirAll.
func (OS) MkdirAll(dir string, perm os.FileMode) error { return os.MkdirAll(dir, perm) }

// SyncDir opens dir and fsyncs it, which makes the directory entries created,
// renamed or removed in it durable.
func (OS) SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	if err := d.Sync(); err != nil {
		d.Close()
		return fmt.Errorf("vfs: sync dir %s: %w", dir, err)
	}
	return d.Close()
}
