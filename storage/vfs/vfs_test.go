package vfs

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// testFSBasics checks the behaviour every FS must share with the OS, so
// CrashFS stays a faithful stand-in.
func testFSBasics(t *testing.T, fsys FS, root string) {
	t.Helper()
	dir := filepath.Join(root, "a", "b")
	if err := fsys.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	name := filepath.Join(dir, "f.dat")
	if _, err := fsys.OpenFile(name, os.O_RDWR, 0o644); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("open of a missing file: %v, want ErrNotExist", err)
	}
	f, err := fsys.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fsys.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("O_EXCL on an existing file: %v, want ErrExist", err)
	}
	if _, err := f.Write([]byte("hello ")); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("world")); err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("W"), 6); err != nil {
		t.Fatal(err)
	}
	// A write past the end leaves a hole of zeros.
	if _, err := f.WriteAt([]byte("!"), 13); err != nil {
		t.Fatal(err)
	}
	want := []byte("hello World\x00\x00!")
	got := make([]byte, 32)
	n, err := f.ReadAt(got, 0)
	if err != io.EOF || !bytes.Equal(got[:n], want) {
		t.Fatalf("ReadAt = %q, %v; want %q, EOF", got[:n], err, want)
	}
	if n, err := f.ReadAt(got[:5], 6); err != nil || string(got[:n]) != "World" {
		t.Fatalf("ReadAt(6) = %q, %v", got[:n], err)
	}
	if fi, err := f.Stat(); err != nil || fi.Size() != int64(len(want)) {
		t.Fatalf("Stat = %v, %v; want size %d", fi, err, len(want))
	}
	if err := f.Truncate(5); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	// O_APPEND writes go to the end; Read follows the offset.
	f, err = fsys.OpenFile(name, os.O_RDWR|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("+tail")); err != nil {
		t.Fatal(err)
	}
	// The shared offset is now at the end.
	if n, err := f.Read(got); n != 0 || err != io.EOF {
		t.Fatalf("Read at the end = %d, %v; want 0, EOF", n, err)
	}
	f.Close()
	// Read-only handles read from the start and refuse writes.
	ro, err := fsys.OpenFile(name, os.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	all, err := io.ReadAll(ro)
	if err != nil || string(all) != "hello+tail" {
		t.Fatalf("ReadAll = %q, %v; want %q", all, err, "hello+tail")
	}
	if _, err := ro.WriteAt([]byte("x"), 0); err == nil {
		t.Fatal("write on a read-only handle succeeded")
	}
	ro.Close()

	if fi, err := fsys.Stat(dir); err != nil || !fi.IsDir() {
		t.Fatalf("Stat(dir) = %v, %v", fi, err)
	}
	other := filepath.Join(dir, "e.idx")
	if err := fsys.Rename(name, other); err != nil {
		t.Fatal(err)
	}
	if _, err := fsys.Stat(name); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("old name after rename: %v", err)
	}
	if err := fsys.SyncDir(dir); err != nil {
		t.Fatal(err)
	}
	if err := fsys.MkdirAll(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	ents, err := fsys.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if len(names) != 2 || names[0] != "e.idx" || names[1] != "sub" || !ents[1].IsDir() {
		t.Fatalf("ReadDir = %v, want [e.idx sub/]", names)
	}
	if err := fsys.Remove(dir); err == nil {
		t.Fatal("Remove of a non-empty directory succeeded")
	}
	if err := fsys.Remove(other); err != nil {
		t.Fatal(err)
	}
	if err := fsys.Remove(other); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("second Remove: %v, want ErrNotExist", err)
	}
	if _, err := fsys.OpenFile(filepath.Join(root, "nodir", "x"), os.O_RDWR|os.O_CREATE, 0o644); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("create in a missing directory: %v, want ErrNotExist", err)
	}
}

func TestOSBasics(t *testing.T) { testFSBasics(t, Default(), t.TempDir()) }

func TestCrashFSBasics(t *testing.T) { testFSBasics(t, NewCrashFS(), "/data") }
