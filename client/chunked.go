package client

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"sync"
)

// defaultChunkUploads is how many chunks UploadChunked sends at once: one
// connection leaves the volume server idle while the client reads the next
// chunk and waits for an assign; a few keep both sides busy while the
// memory held (this many chunks) stays small.
const defaultChunkUploads = 4

// ChunkedUploadOptions configure UploadChunked.
type ChunkedUploadOptions struct {
	Assign    AssignOptions
	Name      string
	Mime      string
	ChunkSize int64 // bytes a chunk; SeaweedFS's default is 4 MiB
	// Parallel is the most chunks in flight (each with its own assign and
	// upload, and a chunk-sized buffer); 0 means 4.
	Parallel int
}

// UploadChunked stores r as chunks of o.ChunkSize, each with its own
// assign, then a manifest; it returns the manifest's fid and the total size.
// Chunks are read in order and uploaded up to o.Parallel at a time. On
// failure the chunks already stored are deleted.
func (c *Client) UploadChunked(ctx context.Context, r io.Reader, o ChunkedUploadOptions) (string, int64, error) {
	if o.ChunkSize <= 0 {
		o.ChunkSize = 4 << 20
	}
	if o.Parallel <= 0 {
		o.Parallel = defaultChunkUploads
	}
	up := chunkUploads{c: c, o: o}
	m := ChunkManifest{Name: o.Name, Mime: o.Mime}
	var err error
	m.Chunks, m.Size, err = up.run(ctx, r)
	if err != nil {
		up.deleteStored(ctx)
		return "", 0, err
	}
	body, err := json.Marshal(m)
	if err != nil {
		up.deleteStored(ctx)
		return "", 0, err
	}
	a, err := c.Assign(ctx, o.Assign)
	if err != nil {
		up.deleteStored(ctx)
		return "", 0, err
	}
	if _, err := c.Upload(ctx, a.URL, a.Fid, body, UploadOptions{Name: o.Name, Mime: o.Mime, JWT: a.Auth, Manifest: true, TTL: o.Assign.TTL}); err != nil {
		up.deleteStored(ctx)
		return "", 0, err
	}
	return a.Fid, m.Size, nil
}

// chunkUploads is one UploadChunked's chunks in flight.
type chunkUploads struct {
	c *Client
	o ChunkedUploadOptions

	mu     sync.Mutex
	chunks []ChunkInfo // by index; Fid is set once the chunk is stored
	err    error       // the first failure
}

// run reads r chunk by chunk, handing each to an upload of its own while
// at most o.Parallel are in flight (each owns one of as many buffers), and
// returns the chunks in order once all are stored.
func (u *chunkUploads) run(parent context.Context, r io.Reader) ([]ChunkInfo, int64, error) {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	free := make(chan []byte, u.o.Parallel)
	for i := 0; i < u.o.Parallel; i++ {
		free <- nil // allocated on first use: a small input needs one
	}
	var wg sync.WaitGroup
	var size int64
	for i := 0; ; i++ {
		var buf []byte
		select {
		case buf = <-free:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		if buf == nil {
			buf = make([]byte, u.o.ChunkSize)
		}
		n, err := io.ReadFull(r, buf)
		if n > 0 {
			u.mu.Lock()
			u.chunks = append(u.chunks, ChunkInfo{Offset: size, Size: int64(n)})
			u.mu.Unlock()
			size += int64(n)
			wg.Add(1)
			go func(i int, buf []byte, n int) {
				defer wg.Done()
				defer func() { free <- buf }()
				fid, err := u.one(ctx, i, buf[:n])
				u.mu.Lock()
				defer u.mu.Unlock()
				if err != nil {
					if u.err == nil {
						u.err = err
						cancel()
					}
					return
				}
				u.chunks[i].Fid = fid
			}(i, buf, n)
		} else {
			free <- buf
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			u.mu.Lock()
			if u.err == nil {
				u.err = fmt.Errorf("read input: %w", err)
			}
			u.mu.Unlock()
			cancel()
			break
		}
	}
	wg.Wait()
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.err == nil && parent.Err() != nil {
		u.err = parent.Err()
	}
	return u.chunks, size, u.err
}

// one stores chunk i.
func (u *chunkUploads) one(ctx context.Context, i int, data []byte) (string, error) {
	a, err := u.c.Assign(ctx, u.o.Assign)
	if err != nil {
		return "", err
	}
	name := u.o.Name + "-" + strconv.Itoa(i+1)
	if _, err := u.c.Upload(ctx, a.URL, a.Fid, data, UploadOptions{Name: name, Mime: "application/octet-stream", JWT: a.Auth, TTL: u.o.Assign.TTL}); err != nil {
		return "", err
	}
	return a.Fid, nil
}

// deleteStored deletes the chunks already stored, after a failure.
func (u *chunkUploads) deleteStored(ctx context.Context) {
	u.mu.Lock()
	chunks := append([]ChunkInfo(nil), u.chunks...)
	u.mu.Unlock()
	for _, ch := range chunks {
		if ch.Fid != "" {
			_ = u.c.Delete(context.WithoutCancel(ctx), ch.Fid, "")
		}
	}
}
