package mount

import (
	"context"
	"sync"

	"github.com/hanwen/go-fuse/v2/fuse"
)

// windowRead answers a read with bytes of a cached window as they are:
// go-fuse writes them to the kernel (writev, through the Slices method)
// and then calls Done, which lets the window go. Until then the window is
// held, so the cache neither evicts nor reuses its buffer.
type windowRead struct {
	cache *chunkCache
	w     *window
	data  []byte
	once  sync.Once
}

var _ fuse.ReadResult = (*windowRead)(nil)

func (r *windowRead) Size() int                          { return len(r.data) }
func (r *windowRead) Bytes([]byte) ([]byte, fuse.Status) { return r.data, fuse.OK }
func (r *windowRead) Slices() ([][]byte, fuse.Status)    { return [][]byte{r.data}, fuse.OK }
func (r *windowRead) Done()                              { r.once.Do(func() { r.cache.release(r.w) }) }

// readWindow answers a read of n bytes at file offset off from the one
// window holding them all; nil and no error when no single window does
// (a gap, two chunks, two windows) or n is 0 (go-fuse calls Done only
// for a result with bytes), so the caller copies instead.
func (fsys *FS) readWindow(ctx context.Context, v view, off int64, n int, seq bool) (fuse.ReadResult, error) {
	i := v.find(off)
	if n <= 0 || i >= len(v) {
		return nil, nil
	}
	p := v[i]
	end := off + int64(n)
	if p.start > off || p.stop < end {
		return nil, nil
	}
	ws := fsys.cache.winSize
	at := off - p.chunk.Offset
	win := at / ws
	if (at+int64(n)-1)/ws != win {
		return nil, nil
	}
	if seq {
		// Started first, so the windows ahead are fetched while this
		// one is.
		fsys.readAhead(v, end)
	}
	w, err := fsys.cache.acquire(ctx, p.chunk.Fid, int64(p.chunk.Size), win)
	if err != nil {
		return nil, err
	}
	from := at - win*ws
	if int64(len(w.data)) < from+int64(n) {
		// A window cached for a shorter view of the blob (a chunk clipped
		// by a truncate): copy what the view says instead.
		fsys.cache.release(w)
		return nil, nil
	}
	return &windowRead{cache: fsys.cache, w: w, data: w.data[from : from+int64(n)]}, nil
}
