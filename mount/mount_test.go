package mount_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestBasicOperations(t *testing.T) {
	requireFUSE(t)
	fe := newFilerEnv(t)
	mnt, _ := fe.mount(t)

	p := filepath.Join(mnt, "a", "b")
	if err := os.MkdirAll(p, 0o755); err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(p, "hello.txt")
	if err := os.WriteFile(f, []byte("hello, world\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(f)
	if err != nil || string(got) != "hello, world\n" {
		t.Fatalf("read back %q, %v", got, err)
	}
	st, err := os.Stat(f)
	if err != nil {
		t.Fatal(err)
	}
	if st.Size() != 13 || st.Mode().Perm() != 0o640 {
		t.Fatalf("stat: size %d mode %v", st.Size(), st.Mode())
	}
	// chmod, chown, utimens.
	if err := os.Chmod(f, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(f, 1234, 5678); err != nil {
		t.Fatal(err)
	}
	mt := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	if err := os.Chtimes(f, mt, mt); err != nil {
		t.Fatal(err)
	}
	st, _ = os.Stat(f)
	sys := st.Sys().(*syscall.Stat_t)
	if st.Mode().Perm() != 0o600 || sys.Uid != 1234 || sys.Gid != 5678 || !st.ModTime().Equal(mt) {
		t.Fatalf("after chmod/chown/utimens: %v %d:%d %v", st.Mode(), sys.Uid, sys.Gid, st.ModTime())
	}
	// Overwrite with O_TRUNC, then truncate down and up.
	if err := os.WriteFile(f, []byte("0123456789"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(f, 4); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(f, 8); err != nil {
		t.Fatal(err)
	}
	got, _ = os.ReadFile(f)
	if string(got) != "0123\x00\x00\x00\x00" {
		t.Fatalf("after truncates: %q", got)
	}
	// Symlink and readlink.
	if err := os.Symlink("b/hello.txt", filepath.Join(mnt, "a", "link")); err != nil {
		t.Fatal(err)
	}
	if tgt, err := os.Readlink(filepath.Join(mnt, "a", "link")); err != nil || tgt != "b/hello.txt" {
		t.Fatalf("readlink %q, %v", tgt, err)
	}
	if got, err := os.ReadFile(filepath.Join(mnt, "a", "link")); err != nil || string(got) != "0123\x00\x00\x00\x00" {
		t.Fatalf("read through symlink %q, %v", got, err)
	}
	// Extended attributes.
	if err := syscall.Setxattr(f, "user.color", []byte("blue"), 0); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	n, err := syscall.Getxattr(f, "user.color", buf)
	if err != nil || string(buf[:n]) != "blue" {
		t.Fatalf("getxattr %q, %v", buf[:n], err)
	}
	n, err = syscall.Listxattr(f, buf)
	if err != nil || !strings.Contains(string(buf[:n]), "user.color\x00") {
		t.Fatalf("listxattr %q, %v", buf[:n], err)
	}
	if err := syscall.Setxattr(f, "user.color", []byte("red"), 1 /* XATTR_CREATE */); !errors.Is(err, syscall.EEXIST) {
		t.Fatalf("setxattr create over existing: %v", err)
	}
	if err := syscall.Removexattr(f, "user.color"); err != nil {
		t.Fatal(err)
	}
	if _, err := syscall.Getxattr(f, "user.color", buf); !errors.Is(err, syscall.ENODATA) {
		t.Fatalf("getxattr after remove: %v", err)
	}
	// rmdir of a folder with children, unlink, rmdir.
	if err := syscall.Rmdir(filepath.Join(mnt, "a")); !errors.Is(err, syscall.ENOTEMPTY) {
		t.Fatalf("rmdir non-empty: %v", err)
	}
	if err := os.Remove(f); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(f); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("stat after unlink: %v", err)
	}
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	// statfs answers.
	var sfs syscall.Statfs_t
	if err := syscall.Statfs(mnt, &sfs); err != nil || sfs.Bavail == 0 {
		t.Fatalf("statfs %+v, %v", sfs, err)
	}
	// Listing.
	for i := 0; i < 30; i++ {
		os.WriteFile(filepath.Join(mnt, "a", fmt.Sprintf("f%02d", i)), []byte{byte(i)}, 0o644)
	}
	ents, err := os.ReadDir(filepath.Join(mnt, "a"))
	if err != nil || len(ents) != 31 { // 30 files and link
		t.Fatalf("readdir: %d entries, %v", len(ents), err)
	}
}

func TestRenamePOSIX(t *testing.T) {
	requireFUSE(t)
	fe := newFilerEnv(t)
	mnt, _ := fe.mount(t)
	w := func(name, s string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(mnt, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r := func(name string) string {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(mnt, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	w("x", "x-body")
	w("y", "y-body")
	// A file over a file replaces it.
	if err := os.Rename(filepath.Join(mnt, "x"), filepath.Join(mnt, "y")); err != nil {
		t.Fatal(err)
	}
	if r("y") != "x-body" {
		t.Fatalf("y = %q", r("y"))
	}
	if _, err := os.Stat(filepath.Join(mnt, "x")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("x still there: %v", err)
	}
	// A folder over an empty folder replaces it; over a non-empty one fails.
	os.MkdirAll(filepath.Join(mnt, "d1", "sub"), 0o755)
	w("d1/sub/f", "deep")
	os.Mkdir(filepath.Join(mnt, "empty"), 0o755)
	os.Mkdir(filepath.Join(mnt, "full"), 0o755)
	w("full/g", "g")
	// syscall.Rename: os.Rename refuses any folder target on its own.
	if err := syscall.Rename(filepath.Join(mnt, "d1"), filepath.Join(mnt, "full")); !errors.Is(err, syscall.ENOTEMPTY) && !errors.Is(err, syscall.EEXIST) {
		t.Fatalf("rename over non-empty folder: %v", err)
	}
	if err := syscall.Rename(filepath.Join(mnt, "d1"), filepath.Join(mnt, "empty")); err != nil {
		t.Fatal(err)
	}
	if r("empty/sub/f") != "deep" {
		t.Fatal("moved subtree lost its file")
	}
	// A file over a folder, and a folder over a file, fail.
	if err := syscall.Rename(filepath.Join(mnt, "y"), filepath.Join(mnt, "full")); !errors.Is(err, syscall.EISDIR) {
		t.Fatalf("file over folder: %v", err)
	}
	if err := syscall.Rename(filepath.Join(mnt, "full"), filepath.Join(mnt, "y")); !errors.Is(err, syscall.ENOTDIR) {
		t.Fatalf("folder over file: %v", err)
	}
	// A file renamed while open keeps its writes, at its new name.
	fh, err := os.OpenFile(filepath.Join(mnt, "open"), os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	fh.Write([]byte("before "))
	if err := os.Rename(filepath.Join(mnt, "open"), filepath.Join(mnt, "moved")); err != nil {
		t.Fatal(err)
	}
	fh.Write([]byte("after"))
	if err := fh.Close(); err != nil {
		t.Fatal(err)
	}
	if r("moved") != "before after" {
		t.Fatalf("moved = %q", r("moved"))
	}
	if _, err := os.Stat(filepath.Join(mnt, "open")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("old name came back: %v", err)
	}
}
