package filer

import (
	"context"
	"fmt"
	"io"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"weedfs.dev/weed/pb"
)

// Manifest chunks, as SeaweedFS's filer makes them (SEAWEEDFS-WIRE.md
// §5.1): an entry holding at least ManifestBatch data chunks has each run
// of ManifestBatch consecutive data chunks stored as one blob, a
// FileChunkManifest, and listed as one chunk with IsManifest set whose
// offset and size span the run. Reading, deleting and comparing chunk
// lists resolve manifests (recursively) back into data chunks, in place,
// so the override order of overlapping chunks is kept.
//
// A FileChunkManifest blob is protobuf:
//
//	field 1 (bytes, repeated)  one pb.FileChunk per data chunk, in order
//
// (message FileChunkManifest { repeated FileChunk chunks = 1; }).

// DefaultManifestBatch is SeaweedFS's ManifestBatch.
const DefaultManifestBatch = 10000

// manifestChunksField is FileChunkManifest.chunks.
const manifestChunksField protowire.Number = 1

// maxManifestDepth bounds manifests of manifests, so a loop of manifests
// naming each other cannot recurse forever.
const maxManifestDepth = 4

// MaxManifestBlob bounds a manifest blob read back: 10000 chunk records
// of well under 200 bytes each.
const MaxManifestBlob = 16 << 20

func chunkToPB(c Chunk) *pb.FileChunk {
	return &pb.FileChunk{FileId: c.Fid, Offset: c.Offset, Size: c.Size, ModifiedTsNs: c.ModifiedTsNs,
		ETag: c.ETag, IsChunkManifest: c.IsManifest}
}

func chunkFromPB(c *pb.FileChunk) Chunk {
	return Chunk{Fid: c.FileId, Offset: c.Offset, Size: c.Size, ModifiedTsNs: c.ModifiedTsNs,
		ETag: c.ETag, IsManifest: c.IsChunkManifest}
}

// EncodeManifest returns the FileChunkManifest blob listing chunks.
func EncodeManifest(chunks []Chunk) ([]byte, error) {
	var b []byte
	opts := proto.MarshalOptions{Deterministic: true}
	for _, c := range chunks {
		m, err := opts.Marshal(chunkToPB(c))
		if err != nil {
			return nil, fmt.Errorf("filer: encode manifest: %w", err)
		}
		b = protowire.AppendTag(b, manifestChunksField, protowire.BytesType)
		b = protowire.AppendBytes(b, m)
	}
	return b, nil
}

// DecodeManifest reads a FileChunkManifest blob; fields other than
// chunks are skipped, bad bytes are ErrCorrupt.
func DecodeManifest(b []byte) ([]Chunk, error) {
	var out []Chunk
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, fmt.Errorf("manifest: %v: %w", protowire.ParseError(n), ErrCorrupt)
		}
		b = b[n:]
		if num != manifestChunksField || typ != protowire.BytesType {
			n = protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return nil, fmt.Errorf("manifest: %v: %w", protowire.ParseError(n), ErrCorrupt)
			}
			b = b[n:]
			continue
		}
		v, n := protowire.ConsumeBytes(b)
		if n < 0 {
			return nil, fmt.Errorf("manifest: %v: %w", protowire.ParseError(n), ErrCorrupt)
		}
		b = b[n:]
		var c pb.FileChunk
		if err := proto.Unmarshal(v, &c); err != nil {
			return nil, fmt.Errorf("manifest chunk: %v: %w", err, ErrCorrupt)
		}
		out = append(out, chunkFromPB(&c))
	}
	return out, nil
}

func hasManifest(chunks []Chunk) bool {
	for _, c := range chunks {
		if c.IsManifest {
			return true
		}
	}
	return false
}

// ResolveChunks replaces every manifest chunk by the chunks it lists,
// recursively, in place, reading the manifest blobs. Without manifests it
// returns chunks as they are.
func (f *Filer) ResolveChunks(ctx context.Context, chunks []Chunk) ([]Chunk, error) {
	return f.resolve(ctx, chunks, nil)
}

// resolve is ResolveChunks; manifests, when not nil, collects the fids of
// the manifest blobs met.
func (f *Filer) resolve(ctx context.Context, chunks []Chunk, manifests *[]string) ([]Chunk, error) {
	read := func(ctx context.Context, c Chunk) ([]byte, error) {
		if manifests != nil {
			*manifests = append(*manifests, c.Fid)
		}
		return f.fetchAll(ctx, c.Fid)
	}
	return ResolveManifests(ctx, chunks, read)
}

// ResolveManifests returns chunks with every manifest chunk replaced, in
// place (so the override order of overlapping chunks is kept), by the
// data chunks it lists, recursively; read returns a manifest chunk's blob
// (whose length is not the chunk's Size: that is the span of the data it
// lists).
// Chunk lists without manifests come back as they are, without a copy.
// The filer and the mount both read files through it.
func ResolveManifests(ctx context.Context, chunks []Chunk, read func(context.Context, Chunk) ([]byte, error)) ([]Chunk, error) {
	return resolveAt(ctx, chunks, 0, read)
}

func resolveAt(ctx context.Context, chunks []Chunk, depth int, read func(context.Context, Chunk) ([]byte, error)) ([]Chunk, error) {
	if !hasManifest(chunks) {
		return chunks, nil
	}
	if depth >= maxManifestDepth {
		return nil, fmt.Errorf("%w: manifests nested deeper than %d", ErrCorrupt, maxManifestDepth)
	}
	out := make([]Chunk, 0, len(chunks))
	for _, c := range chunks {
		if !c.IsManifest {
			out = append(out, c)
			continue
		}
		data, err := read(ctx, c)
		if err != nil {
			return nil, fmt.Errorf("read manifest %s: %w", c.Fid, err)
		}
		inner, err := DecodeManifest(data)
		if err != nil {
			return nil, fmt.Errorf("manifest %s: %w", c.Fid, err)
		}
		if inner, err = resolveAt(ctx, inner, depth+1, read); err != nil {
			return nil, err
		}
		out = append(out, inner...)
	}
	return out, nil
}

// fetchAll reads a whole (small) blob.
func (f *Filer) fetchAll(ctx context.Context, fid string) ([]byte, error) {
	body, err := f.open(ctx, fid, 0, 0)
	if err != nil {
		return nil, err
	}
	defer body.Close()
	data, err := io.ReadAll(io.LimitReader(body, MaxManifestBlob+1))
	if err != nil {
		return nil, fmt.Errorf("%w: read %s: %w", ErrBlobs, fid, err)
	}
	if len(data) > MaxManifestBlob {
		return nil, fmt.Errorf("%w: manifest %s is over %d bytes", ErrCorrupt, fid, MaxManifestBlob)
	}
	return data, nil
}

// allFids lists the fids chunks hold: data chunks and, for manifests,
// the manifest blobs and everything they list. A manifest that cannot be
// read is logged and only its own fid listed (its data chunks leak
// rather than the change failing).
func (f *Filer) allFids(ctx context.Context, fids []string, chunks []Chunk) []string {
	var manifests []string
	data, err := f.resolve(ctx, chunks, &manifests)
	if err != nil {
		f.log.Warn("resolve manifest chunks", "err", err)
		for _, c := range chunks {
			fids = append(fids, c.Fid)
		}
		return fids
	}
	for _, c := range data {
		fids = append(fids, c.Fid)
	}
	return append(fids, manifests...)
}

// manifestize groups each run of ManifestBatch consecutive data chunks of
// chunks into a manifest blob stored under a fid reserved into rec, so it
// is marked or deleted with the upload's other fids.
func (f *Filer) manifestize(ctx context.Context, chunks []Chunk, o WriteOptions, rec *uploadRecord) ([]Chunk, error) {
	batch := f.opt.ManifestBatch
	data := 0
	for _, c := range chunks {
		if !c.IsManifest {
			data++
		}
	}
	if data < batch {
		return chunks, nil
	}
	out := make([]Chunk, 0, len(chunks)/batch+batch)
	run := 0 // data chunks at the end of out, not yet grouped
	for _, c := range chunks {
		out = append(out, c)
		if c.IsManifest {
			run = 0
			continue
		}
		if run++; run < batch {
			continue
		}
		group := out[len(out)-batch:]
		m, err := f.storeManifest(ctx, group, o, rec)
		if err != nil {
			return nil, err
		}
		out = append(out[:len(out)-batch], m)
		run = 0
	}
	return out, nil
}

// storeManifest stores group as one manifest blob and returns its chunk.
func (f *Filer) storeManifest(ctx context.Context, group []Chunk, o WriteOptions, rec *uploadRecord) (Chunk, error) {
	blob, err := EncodeManifest(group)
	if err != nil {
		return Chunk{}, err
	}
	lo, hi := int64(math.MaxInt64), int64(math.MinInt64)
	var ts int64
	for _, c := range group {
		lo = min(lo, c.Offset)
		hi = max(hi, c.Offset+int64(c.Size))
		ts = max(ts, c.ModifiedTsNs)
	}
	x, err := f.res.take(ctx, o, f.res.lane())
	if err != nil {
		return Chunk{}, err
	}
	rec.add(x)
	m, err := f.storeChunk(ctx, x, blob, lo, o)
	if err != nil {
		return Chunk{}, err
	}
	m.Offset, m.Size, m.IsManifest = lo, uint64(hi-lo), true
	if ts > 0 {
		m.ModifiedTsNs = ts
	}
	return m, nil
}
