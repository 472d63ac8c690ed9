package mount

import (
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// raiseReadAhead sets the kernel's read-ahead of the mount at dir to as
// far as the mount itself fetches ahead (ReadAhead windows of ChunkSize).
// A FUSE mount starts at the kernel's default of 128 KiB, which the INIT
// reply can only lower; with it a sequential reader has one or two small
// requests out at a time. With one chunk (several 1 MiB requests at once)
// the mount used a fifth less CPU per GiB read and read faster; with two
// a little faster again (1 GiB first read, 4 runs each on a busy machine:
// 650-956 MB/s with 4 MiB, 785-883 MB/s with 8 MiB). Only root may write
// the setting (/sys/class/bdi/<dev>/read_ahead_kb): for anyone else the
// mount works with the default.
func (fsys *FS) raiseReadAhead(dir string) {
	var st unix.Stat_t
	if err := unix.Stat(dir, &st); err != nil {
		fsys.log.Debug("read-ahead left at the default", "err", err)
		return
	}
	p := fmt.Sprintf("/sys/class/bdi/%d:%d/read_ahead_kb", unix.Major(st.Dev), unix.Minor(st.Dev))
	kb := strconv.FormatInt(max(fsys.opt.ChunkSize*int64(max(fsys.opt.ReadAhead, 1))>>10, 128), 10)
	if err := os.WriteFile(p, []byte(kb), 0); err != nil {
		fsys.log.Debug("read-ahead left at the default", "err", err)
	}
}
