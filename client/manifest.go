package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
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
