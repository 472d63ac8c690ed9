package mount

import (
	"os"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fuse"

	"weedfs.dev/weed/filer"
)

// blockSize is what stat reports as st_blksize: programs such as cp size
// their buffers by it, and large writes are cheaper through FUSE.
const blockSize = 1 << 20

// kind is the S_IFMT bits of an entry.
func kind(e *filer.Entry) uint32 {
	switch {
	case e.IsDirectory():
		return syscall.S_IFDIR
	case e.Mode&os.ModeSymlink != 0 || e.SymlinkTarget != "":
		return syscall.S_IFLNK
	}
	return syscall.S_IFREG
}

// unixMode is the st_mode of an entry.
func unixMode(e *filer.Entry) uint32 {
	m := kind(e) | uint32(e.Mode.Perm())
	if e.Mode&os.ModeSetuid != 0 {
		m |= syscall.S_ISUID
	}
	if e.Mode&os.ModeSetgid != 0 {
		m |= syscall.S_ISGID
	}
	if e.Mode&os.ModeSticky != 0 {
		m |= syscall.S_ISVTX
	}
	return m
}

// goMode turns st_mode bits into an entry's mode.
func goMode(mode uint32) os.FileMode {
	m := os.FileMode(mode & 0o777)
	if mode&syscall.S_ISUID != 0 {
		m |= os.ModeSetuid
	}
	if mode&syscall.S_ISGID != 0 {
		m |= os.ModeSetgid
	}
	if mode&syscall.S_ISVTX != 0 {
		m |= os.ModeSticky
	}
	switch mode & syscall.S_IFMT {
	case syscall.S_IFDIR:
		m |= os.ModeDir
	case syscall.S_IFLNK:
		m |= os.ModeSymlink
	}
	return m
}

// withPerm keeps e's type bits and takes the permission bits of mode.
func withPerm(e *filer.Entry, mode uint32) os.FileMode {
	typ := e.Mode & (os.ModeDir | os.ModeSymlink)
	return typ | goMode(mode&0o7777)
}

func fillAttr(e *filer.Entry, out *fuse.Attr) {
	out.Mode = unixMode(e)
	out.Size = e.FileSize
	if e.IsDirectory() {
		out.Size = 4096
		out.Nlink = 2
	} else {
		out.Nlink = 1
	}
	if e.SymlinkTarget != "" {
		out.Size = uint64(len(e.SymlinkTarget))
	}
	out.Blocks = (out.Size + 511) / 512
	out.Blksize = blockSize
	out.Uid, out.Gid = e.UID, e.GID
	mt := e.Mtime
	if mt.IsZero() {
		mt = time.Unix(0, 0)
	}
	out.SetTimes(&mt, &mt, &mt)
}
