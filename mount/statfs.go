package mount

import (
	"context"
	"sync"
	"time"

	"github.com/hanwen/go-fuse/v2/fuse"

	"weedfs.dev/weed/client"
	"weedfs.dev/weed/filer"
)

// statfsTTL is how long a capacity read from the master answers statfs
// (df and file managers call it often).
const statfsTTL = 5 * time.Second

// statfsBlock is the block size statfs counts in.
const statfsBlock = 4096

// capacityCache remembers the master's last capacity answer and when it
// was last asked.
type capacityCache struct {
	mu    sync.Mutex
	cap   client.Capacity
	asked time.Time
	have  bool
}

// capacity is the cluster's room: the master's answer, asked at most once
// per statfsTTL (a master that is down or cannot say, such as SeaweedFS's,
// is not asked again on every statfs), the last good answer meanwhile, and
// false when there never was one.
func (fsys *FS) capacity(ctx context.Context) (client.Capacity, bool) {
	c := &fsys.capacityCache
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.asked.IsZero() && time.Since(c.asked) < statfsTTL {
		return c.cap, c.have
	}
	c.asked = time.Now()
	ctx, cancel := context.WithTimeout(ctx, fsys.opt.OpTimeout)
	defer cancel()
	got, err := fsys.blobs.Capacity(ctx)
	switch {
	case err != nil:
		fsys.log.Debug("statfs: master capacity", "err", err)
	case got.VolumeSizeLimit > 0:
		c.cap, c.have = got, true
	}
	return c.cap, c.have
}

// fillStatfs reports the cluster's capacity (every volume slot of the
// live volume servers at the volume size limit) and what the volumes
// hold, or a large, mostly free file system when the master cannot say.
// Inodes are not a limit of the filer: they are reported as plenty.
func fillStatfs(out *fuse.StatfsOut, c client.Capacity, known bool) {
	out.Bsize = statfsBlock
	out.Frsize = statfsBlock
	out.NameLen = filer.MaxNameLen
	out.Files = 1 << 30
	out.Ffree = 1 << 29
	if !known {
		out.Blocks = 1 << 40 / statfsBlock
		out.Bfree = out.Blocks / 2
		out.Bavail = out.Bfree
		return
	}
	total := uint64(max(c.MaxVolumes, 0)) * c.VolumeSizeLimit
	out.Blocks = total / statfsBlock
	if c.UsedSize < total {
		out.Bfree = (total - c.UsedSize) / statfsBlock
	}
	out.Bavail = out.Bfree
}
