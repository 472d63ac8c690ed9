package mount

import (
	"context"
	"fmt"
	"io"

	"weedfs.dev/weed/client"
	"weedfs.dev/weed/filer"
)

// resolveManifests returns chunks with every manifest chunk (a blob
// listing a run of data chunks, which the filer makes for files of 10,000
// chunks or more, as SeaweedFS does) replaced by the data chunks it lists.
func (fsys *FS) resolveManifests(ctx context.Context, chunks []filer.Chunk) ([]filer.Chunk, error) {
	return filer.ResolveManifests(ctx, chunks, fsys.readManifest)
}

// readManifest reads a manifest chunk's whole blob; its length is not the
// chunk's Size (the span of the data it lists).
func (fsys *FS) readManifest(ctx context.Context, c filer.Chunk) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, fsys.opt.IOTimeout)
	defer cancel()
	body, _, err := fsys.blobs.Open(ctx, c.Fid, client.ReadOptions{})
	if err != nil {
		return nil, err
	}
	defer body.Close()
	b, err := io.ReadAll(io.LimitReader(body, filer.MaxManifestBlob+1))
	if err != nil {
		return nil, err
	}
	if len(b) > filer.MaxManifestBlob {
		return nil, fmt.Errorf("over %d bytes: %w", filer.MaxManifestBlob, filer.ErrCorrupt)
	}
	return b, nil
}
