package filer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"

	"weedfs.dev/weed/client"
	"weedfs.dev/weed/security"
)

// ErrShortChunk: a volume server returned fewer bytes than a chunk holds.
var ErrShortChunk = errors.New("filer: chunk shorter than recorded")

// span is a piece of the file read from one chunk (or a hole of zeros when
// fid is empty).
type span struct {
	fid    string
	offset int64 // within the chunk's blob
	length int64
}

// spans maps the byte range [off, off+n) of e to chunk pieces in file
// order. Later chunks override earlier ones where they overlap; bytes no
// chunk covers read as zeros.
func spans(e *Entry, off, n int64) []span {
	end := off + n
	type piece struct {
		start, stop int64
		chunk       int
	}
	// visible pieces, kept sorted and disjoint while chunks are laid down
	// in write order.
	var vis []piece
	for i, c := range e.Chunks {
		cs, ce := c.Offset, c.Offset+int64(c.Size)
		if ce <= cs {
			continue
		}
		var next []piece
		for _, p := range vis {
			if p.stop <= cs || p.start >= ce {
				next = append(next, p)
				continue
			}
			if p.start < cs {
				next = append(next, piece{p.start, cs, p.chunk})
			}
			if p.stop > ce {
				next = append(next, piece{ce, p.stop, p.chunk})
			}
		}
		next = append(next, piece{cs, ce, i})
		sort.Slice(next, func(a, b int) bool { return next[a].start < next[b].start })
		vis = next
	}
	var out []span
	pos := off
	for _, p := range vis {
		if p.stop <= pos || p.start >= end {
			continue
		}
		if p.start > pos {
			out = append(out, span{length: p.start - pos})
			pos = p.start
		}
		stop := min(p.stop, end)
		c := e.Chunks[p.chunk]
		out = append(out, span{fid: c.Fid, offset: pos - c.Offset, length: stop - pos})
		pos = stop
	}
	if pos < end {
		out = append(out, span{length: end - pos})
	}
	return out
}

// WriteRange writes bytes [off, off+n) of the file e to w, fetching up to
// ReadAhead chunks ahead of the one being written. n < 0 means to the end.
func (f *Filer) WriteRange(ctx context.Context, w io.Writer, e *Entry, off, n int64) error {
	size := int64(e.FileSize)
	if off > size {
		off = size
	}
	if n < 0 || off+n > size {
		n = size - off
	}
	if n == 0 {
		return nil
	}
	if len(e.Content) > 0 {
		c := e.Content
		if off >= int64(len(c)) {
			c = nil
		} else {
			c = c[off:min(int64(len(c)), off+n)]
		}
		if _, err := w.Write(c); err != nil {
			return err
		}
		if rest := n - int64(len(c)); rest > 0 {
			return writeZeros(w, rest)
		}
		return nil
	}
	if hasManifest(e.Chunks) {
		chunks, err := f.ResolveChunks(ctx, e.Chunks)
		if err != nil {
			return err
		}
		e = &Entry{Chunks: chunks}
	}
	return f.writeSpans(ctx, w, spans(e, off, n))
}

type fetched struct {
	data []byte
	err  error
}

// writeSpans fetches spans ahead in goroutines (at most ReadAhead+1 in
// flight) and writes them in order.
func (f *Filer) writeSpans(ctx context.Context, w io.Writer, sp []span) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ahead := f.opt.ReadAhead + 1
	results := make([]chan fetched, len(sp))
	startFetch := func(i int) {
		results[i] = make(chan fetched, 1)
		if sp[i].fid == "" {
			results[i] <- fetched{}
			return
		}
		go func() {
			data, err := f.fetch(ctx, sp[i])
			results[i] <- fetched{data, err}
		}()
	}
	for i := 0; i < min(ahead, len(sp)); i++ {
		startFetch(i)
	}
	for i := range sp {
		r := <-results[i]
		if next := i + ahead; next < len(sp) {
			startFetch(next)
		}
		if r.err != nil {
			cancel()
			f.drain(results[i+1:])
			return r.err
		}
		var err error
		if sp[i].fid == "" {
			err = writeZeros(w, sp[i].length)
		} else {
			_, err = w.Write(r.data)
			f.bufs.put(r.data)
		}
		if err != nil {
			cancel()
			f.drain(results[i+1:])
			return err
		}
	}
	return nil
}

// drain waits for fetches in flight so no goroutine outlives the read, and
// recycles their buffers.
func (f *Filer) drain(rs []chan fetched) {
	for _, ch := range rs {
		if ch == nil {
			return
		}
		if r := <-ch; r.data != nil {
			f.bufs.put(r.data)
		}
	}
}

// fetch reads one span into a buffer.
func (f *Filer) fetch(ctx context.Context, s span) ([]byte, error) {
	body, err := f.open(ctx, s.fid, s.offset, s.length)
	if err != nil {
		return nil, err
	}
	defer body.Close()
	var buf []byte
	if s.length <= f.bufs.size {
		buf = f.bufs.get(f.bufs.size)[:s.length]
	} else {
		buf = make([]byte, s.length)
	}
	if _, err := io.ReadFull(body, buf); err != nil {
		f.bufs.put(buf)
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%w: %s", ErrShortChunk, s.fid)
		}
		return nil, fmt.Errorf("%w: read chunk %s: %w", ErrBlobs, s.fid, err)
	}
	return buf, nil
}

var zeros = make([]byte, 32<<10)

func writeZeros(w io.Writer, n int64) error {
	for n > 0 {
		k := min(n, int64(len(zeros)))
		if _, err := w.Write(zeros[:k]); err != nil {
			return err
		}
		n -= k
	}
	return nil
}

// open streams bytes [off, off+n) of blob fid (n 0: to the end), with a
// read token when the cluster signs reads.
func (f *Filer) open(ctx context.Context, fid string, off, n int64) (io.ReadCloser, error) {
	token, err := security.Sign(f.opt.Security.Read, fid, f.now())
	if err != nil {
		return nil, err
	}
	body, _, err := f.blobs.Open(ctx, fid, client.ReadOptions{Offset: off, Length: n, JWT: token})
	if err != nil {
		return nil, fmt.Errorf("%w: read chunk %s: %w", ErrBlobs, fid, err)
	}
	return body, nil
}
