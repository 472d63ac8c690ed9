package mount

import (
	"context"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// handle is one open(2) of a regular file; every handle of a node shares
// its openFile.
type handle struct {
	n *node
	f *openFile
}

var (
	_ fs.FileReader   = (*handle)(nil)
	_ fs.FileWriter   = (*handle)(nil)
	_ fs.FileFlusher  = (*handle)(nil)
	_ fs.FileFsyncer  = (*handle)(nil)
	_ fs.FileReleaser = (*handle)(nil)
)

func (h *handle) Read(ctx context.Context, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	h.n.fsys.touchIO()
	r, err := h.f.read(h.n.fsys.opCtx(), dest, off)
	if err != nil {
		h.n.fsys.log.Warn("read", "path", h.n.path(), "off", off, "err", err)
		return nil, errno(err)
	}
	return r, 0
}

func (h *handle) Write(ctx context.Context, data []byte, off int64) (uint32, syscall.Errno) {
	if h.n.fsys.opt.ReadOnly {
		return 0, syscall.EROFS
	}
	h.n.fsys.touchIO()
	kill := h.n.fsys.raw.killRequested(ctx)
	h.f.mu.Lock()
	if h.f.owner == nil {
		h.f.owner = h.n
	}
	if kill {
		// Saved with the data, as the write's other changes.
		killEntry(h.f.entry)
	}
	h.f.write(data, off)
	h.f.mu.Unlock()
	return uint32(len(data)), 0
}

// Flush runs at every close(2): uploads finish and the entry is committed.
func (h *handle) Flush(ctx context.Context) syscall.Errno {
	if err := h.f.flush(h.n.fsys.opCtx(), h.n, false); err != nil {
		h.n.fsys.log.Warn("flush", "path", h.n.path(), "err", err)
		return errno(err)
	}
	return 0
}

// Fsync makes the file durable: its chunks uploaded and synced on the
// volume servers that hold them, and its entry saved and synced on the
// filer. Once the uploads ended the two syncs run at once.
func (h *handle) Fsync(ctx context.Context, flags uint32) syscall.Errno {
	fsys := h.n.fsys
	cctx, cancel := context.WithTimeout(fsys.opCtx(), fsys.opt.IOTimeout)
	defer cancel()
	h.f.waitUploads()
	synced := make(chan error, 1)
	go func() { synced <- fsys.vsync.syncFile(cctx, h.n, h.f.chunkVolumes) }()
	err := h.f.flush(cctx, h.n, true)
	if serr := <-synced; err == nil && serr != nil {
		err = serr
	}
	if err != nil {
		fsys.log.Warn("fsync", "path", h.n.path(), "err", err)
		return errno(err)
	}
	return 0
}

// Release drops the open-file state with the last handle; what is still
// dirty (a failed commit) is tried once more first.
func (h *handle) Release(ctx context.Context) syscall.Errno {
	n := h.n
	n.mu.Lock()
	h.f.opens--
	last := h.f.opens == 0 && n.file == h.f
	n.mu.Unlock()
	if !last {
		return 0
	}
	h.f.mu.Lock()
	dirty := h.f.dirty()
	h.f.mu.Unlock()
	if dirty {
		if err := h.f.flush(n.fsys.opCtx(), n, false); err != nil {
			n.fsys.log.Warn("commit at release", "path", n.path(), "err", err)
		}
	}
	n.mu.Lock()
	if h.f.opens == 0 && n.file == h.f {
		n.file = nil
		n.fsys.filesMu.Lock()
		delete(n.fsys.open, h.f)
		delete(n.fsys.active, h.f)
		n.fsys.filesMu.Unlock()
	}
	n.mu.Unlock()
	return 0
}
