package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
)

// ErrBadManifest is a chunk manifest that does not describe a file.
var ErrBadManifest = errors.New("client: bad chunk manifest")

// ChunkManifest is the JSON SeaweedFS's `weed upload` stores (with
// ?cm=true) for a file cut into chunks; GET on its fid returns the chunks
// joined.
type ChunkManifest struct {
	Name   string      `json:"name,omitempty"`
	Mime   string      `json:"mime,omitempty"`
	Size   int64       `json:"size,omitempty"`
	Chunks []ChunkInfo `json:"chunks,omitempty"`
}

// ChunkInfo is one piece of a chunked file.
type ChunkInfo struct {
	Fid    string `json:"fid"`
	Offset int64  `json:"offset"`
	Size   int64  `json:"size"`
}

// ParseManifest decodes and checks a manifest: chunks sorted by offset,
// contiguous, non-negative, adding up to Size.
func ParseManifest(b []byte) (*ChunkManifest, error) {
	var m ChunkManifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadManifest, err)
	}
	sort.SliceStable(m.Chunks, func(i, j int) bool { return m.Chunks[i].Offset < m.Chunks[j].Offset })
	var next int64
	for _, c := range m.Chunks {
		if c.Fid == "" || c.Size < 0 || c.Offset != next {
			return nil, fmt.Errorf("%w: chunk %q at %d (size %d) does not follow byte %d", ErrBadManifest, c.Fid, c.Offset, c.Size, next)
		}
		next += c.Size
	}
	if next != m.Size {
		return nil, fmt.Errorf("%w: chunks hold %d bytes, manifest says %d", ErrBadManifest, next, m.Size)
	}
	return &m, nil
}

// ChunkedUploadOptions configure UploadChunked.
type ChunkedUploadOptions struct {
	Assign    AssignOptions
	Name      string
	Mime      string
	ChunkSize int64 // bytes a chunk; SeaweedFS's default is 4 MiB
}

// UploadChunked stores r as chunks of o.ChunkSize, each with its own
// assign, then a manifest; it returns the manifest's fid and the total size.
// On failure the chunks already stored are deleted.
func (c *Client) UploadChunked(ctx context.Context, r io.Reader, o ChunkedUploadOptions) (string, int64, error) {
	if o.ChunkSize <= 0 {
		o.ChunkSize = 4 << 20
	}
	m := ChunkManifest{Name: o.Name, Mime: o.Mime}
	buf := make([]byte, o.ChunkSize)
	cleanup := func() {
		for _, ch := range m.Chunks {
			_ = c.Delete(context.WithoutCancel(ctx), ch.Fid, "")
		}
	}
	for i := 0; ; i++ {
		n, err := io.ReadFull(r, buf)
		if n > 0 {
			a, aerr := c.Assign(ctx, o.Assign)
			if aerr != nil {
				cleanup()
				return "", 0, aerr
			}
			name := o.Name + "-" + strconv.Itoa(i+1)
			if _, uerr := c.Upload(ctx, a.URL, a.Fid, buf[:n], UploadOptions{Name: name, Mime: "application/octet-stream", JWT: a.Auth, TTL: o.Assign.TTL}); uerr != nil {
				cleanup()
				return "", 0, uerr
			}
			m.Chunks = append(m.Chunks, ChunkInfo{Fid: a.Fid, Offset: m.Size, Size: int64(n)})
			m.Size += int64(n)
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			cleanup()
			return "", 0, fmt.Errorf("read input: %w", err)
		}
	}
	body, err := json.Marshal(m)
	if err != nil {
		cleanup()
		return "", 0, err
	}
	a, err := c.Assign(ctx, o.Assign)
	if err != nil {
		cleanup()
		return "", 0, err
	}
	if _, err := c.Upload(ctx, a.URL, a.Fid, body, UploadOptions{Name: o.Name, Mime: o.Mime, JWT: a.Auth, Manifest: true, TTL: o.Assign.TTL}); err != nil {
		cleanup()
		return "", 0, err
	}
	return a.Fid, m.Size, nil
}
