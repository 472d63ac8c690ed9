package mount

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"weedfs.dev/weed/client"
	"weedfs.dev/weed/filer"
	"weedfs.dev/weed/storage/needle"
)

// uploadAttempts is how many assign+upload rounds a chunk gets, the
// first retry after uploadBackoff and each next one after twice as long.
const (
	uploadAttempts = 5
	uploadBackoff  = 100 * time.Millisecond
)

// upload stores a sealed buffer as one blob and frees its memory.
func (fsys *FS) upload(w *wbuf, collection, replication string) {
	fsys.uploads <- struct{}{}
	defer func() { <-fsys.uploads }()
	data := w.data[w.start:w.end]
	crc := w.dataCRC()
	var chunk filer.Chunk
	var err error
	pause := uploadBackoff
	for attempt := 1; ; attempt++ {
		if chunk, err = fsys.uploadSummed(data, crc, collection, replication); err == nil {
			break
		}
		fsys.log.Warn("chunk upload failed", "attempt", attempt, "err", err)
		if attempt == uploadAttempts {
			break
		}
		time.Sleep(pause)
		pause *= 2
	}
	chunk.Offset = w.base + w.start
	if err == nil && !fsys.opt.Fsync {
		if id, perr := needle.ParseFileID(chunk.Fid); perr == nil {
			fsys.vsync.uploaded(w.owner, id.VolumeID, int64(len(data)))
		}
	}
	w.mu.Lock()
	w.up, w.err = chunk, err
	// Readers now fetch these bytes from the blob, or get the error. The
	// buffer goes back at once either way: a writer waiting for one must
	// not wait on a drain that only its own next flush would do.
	buf := w.data
	w.data = nil
	w.mu.Unlock()
	fsys.bufs.put(buf)
	close(w.done)
}

// uploadOnce assigns a fid and stores data under it.
func (fsys *FS) uploadOnce(data []byte, collection, replication string) (filer.Chunk, error) {
	return fsys.uploadSummed(data, nil, collection, replication)
}

// uploadSummed is uploadOnce of data whose CRC-32C the caller knows (crc;
// nil: unknown), which the volume server then stores without reading
// the bytes again.
func (fsys *FS) uploadSummed(data []byte, crc *uint32, collection, replication string) (filer.Chunk, error) {
	ctx, cancel := context.WithTimeout(fsys.ctx, fsys.opt.IOTimeout)
	defer cancel()
	if collection == "" {
		collection = fsys.opt.Collection
	}
	if replication == "" {
		replication = fsys.opt.Replication
	}
	a, err := fsys.blobs.Assign(ctx, client.AssignOptions{Collection: collection, Replication: replication})
	if err != nil {
		return filer.Chunk{}, err
	}
	r, err := fsys.chunkw.PutFrom(ctx, a.URL, a.Fid, fsys.bufs.arena, data, crc, client.UploadOptions{JWT: a.Auth, Fsync: fsys.opt.Fsync})
	if err != nil {
		return filer.Chunk{}, err
	}
	return filer.Chunk{Fid: a.Fid, Size: uint64(len(data)), ModifiedTsNs: time.Now().UnixNano(), ETag: r.ETag}, nil
}

// fetch reads len(dst) bytes of blob fid at off from the volume servers.
func (fsys *FS) fetch(ctx context.Context, fid string, off int64, dst []byte) error {
	ctx, cancel := context.WithTimeout(ctx, fsys.opt.IOTimeout)
	defer cancel()
	body, _, err := fsys.blobs.Open(ctx, fid, client.ReadOptions{Offset: off, Length: int64(len(dst))})
	if err != nil {
		return fmt.Errorf("read chunk %s: %w", fid, err)
	}
	defer body.Close()
	if _, err := io.ReadFull(body, dst); err != nil {
		return fmt.Errorf("read chunk %s: %w", fid, err)
	}
	return nil
}

// readView fills buf with file bytes [off, off+len(buf)) laid out by v,
// zeros where no chunk is. When seq, the windows after buf are fetched in
// the background, starting before buf's own.
func (fsys *FS) readView(ctx context.Context, v view, buf []byte, off int64, seq bool) error {
	end := off + int64(len(buf))
	if seq {
		fsys.readAhead(v, end)
	}
	pos := off
	for i := v.find(off); i < len(v) && v[i].start < end; i++ {
		p := v[i]
		if p.start > pos {
			clear(buf[pos-off : p.start-off])
			pos = p.start
		}
		stop := min(p.stop, end)
		if err := fsys.readChunk(ctx, p.chunk, pos-p.chunk.Offset, buf[pos-off:stop-off]); err != nil {
			return err
		}
		pos = stop
	}
	clear(buf[pos-off:])
	return nil
}

// readChunk copies bytes of chunk c from its offset at into dst.
func (fsys *FS) readChunk(ctx context.Context, c filer.Chunk, at int64, dst []byte) error {
	ws := fsys.cache.winSize
	for len(dst) > 0 {
		win := at / ws
		w, err := fsys.cache.acquire(ctx, c.Fid, int64(c.Size), win)
		if err != nil {
			return err
		}
		n := copy(dst, w.data[at-win*ws:])
		fsys.cache.release(w)
		if n == 0 {
			return errors.New("mount: empty window")
		}
		dst = dst[n:]
		at += int64(n)
	}
	return nil
}

// readAhead starts fetching the windows holding the next ReadAhead
// windows' worth of the file after off.
func (fsys *FS) readAhead(v view, off int64) {
	ws := fsys.cache.winSize
	for k := 0; k < fsys.opt.ReadAhead; k++ {
		at := off + int64(k)*ws
		i := v.find(at)
		if i >= len(v) {
			return
		}
		p := v[i]
		at = max(at, p.start)
		fsys.cache.prefetch(fsys.ctx, p.chunk.Fid, int64(p.chunk.Size), (at-p.chunk.Offset)/ws)
	}
}

// overlay copies the part of a dirty buffer that falls in buf (file
// offset off); an uploaded buffer is read back from its blob.
func (fsys *FS) overlay(ctx context.Context, w *wbuf, buf []byte, off int64) error {
	ws, we := w.base+w.start, w.base+w.end
	s, e := max(ws, off), min(we, off+int64(len(buf)))
	if s >= e {
		return nil
	}
	// The copy is made under w.mu: the upload hands the buffer back to
	// the pool (for another writer) only under it.
	w.mu.Lock()
	if w.data != nil {
		copy(buf[s-off:e-off], w.data[s-w.base:e-w.base])
		w.mu.Unlock()
		return nil
	}
	up, err := w.up, w.err
	w.mu.Unlock()
	if err != nil {
		return err
	}
	return fsys.readChunk(ctx, up, s-up.Offset, buf[s-off:e-off])
}
