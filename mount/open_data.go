package mount

import (
	"syscall"

	"github.com/hanwen/go-fuse/v2/fuse"
)

// openFlags are the FOPEN flags an open(2) of a regular file with flags
// is answered with.
//
// A write-only open goes around the kernel's page cache
// (FOPEN_DIRECT_IO): each write(2) is then copied once, from the writer's
// memory into the FUSE request, instead of into page cache pages first
// (fresh pages, which on a virtual machine cost as much as the copy to
// the volume server), and the kernel sends the same requests it would
// anyway (without write-back caching it sends one per write(2)). The
// kernel drops the cached pages a direct write overlaps, so readers of
// the file through the cache see it. Opens that read keep the cache: its
// read-ahead turns small reads into large requests.
func openFlags(flags uint32) uint32 {
	if flags&syscall.O_ACCMODE == syscall.O_WRONLY {
		return fuse.FOPEN_DIRECT_IO
	}
	return 0
}
