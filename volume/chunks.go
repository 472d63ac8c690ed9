package volume

import (
	"context"
	"errors"
	"fmt"
	"io"

	"weedfs.dev/weed/client"
)

// chunkReadAhead is how many chunks after the one streaming are fetched
// in the background when a manifest's file is read whole: chunks live on
// other volumes (often other servers), and fetching one only when the last
// is sent leaves every link idle in turn. Each costs a chunk of memory.
const chunkReadAhead = 2

// maxReadAheadChunk is the largest chunk fetched ahead into memory; larger
// ones (and the chunks after them) are streamed when their turn comes.
const maxReadAheadChunk = 64 << 20

// chunkReader reads a manifest's chunks as one seekable stream. It keeps
// one ranged GET open at a time and reopens only after a Seek, so a Range
// request fetches only the bytes it returns. With ahead > 0 it also
// fetches that many following chunks into memory while the current one is
// read; a Seek drops them.
type chunkReader struct {
	ctx   context.Context
	c     *client.Client
	m     *client.ChunkManifest
	ahead int
	// local reads a chunk this server holds straight from its store
	// (ok false: not here, or not plain; then it goes over HTTP, which
	// answers errors as it always has), into a pooled buffer that release
	// (when not nil) gives back once data is no longer used. nil: always
	// HTTP.
	local localReader

	off  int64
	body io.ReadCloser // the open chunk stream, positioned at off
	end  int64         // offset where body's chunk ends

	fetches []*chunkFetch // chunks after the current one, in order
	next    int           // index of the chunk after the last fetch started
	spare   [][]byte      // buffers of consumed fetches, for the next ones
}

// localReader is chunkReader.local.
type localReader func(ctx context.Context, fid string) (data []byte, release func(), ok bool)

// chunkFetch is one chunk read ahead into memory.
type chunkFetch struct {
	index  int
	cancel context.CancelFunc
	done   chan struct{}
	data   []byte // valid once done is closed
	err    error
	// release gives data's buffer back when it came from the store's
	// pool (valid once done is closed).
	release func()
	// unused is the buffer handed to the fetch when the chunk was read
	// from the store instead (valid once done is closed).
	unused []byte
}

func (cr *chunkReader) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += cr.off
	case io.SeekEnd:
		offset += cr.m.Size
	}
	if offset < 0 {
		return 0, errors.New("seek before start")
	}
	if offset != cr.off {
		cr.Close()
	}
	cr.off = offset
	return offset, nil
}

func (cr *chunkReader) Read(p []byte) (int, error) {
	if cr.off >= cr.m.Size {
		cr.Close()
		return 0, io.EOF
	}
	if cr.body == nil {
		if err := cr.open(); err != nil {
			return 0, err
		}
	}
	if max := cr.end - cr.off; int64(len(p)) > max {
		p = p[:max]
	}
	n, err := cr.body.Read(p)
	cr.off += int64(n)
	if cr.off == cr.end || err == io.EOF {
		cr.closeBody()
		if cr.off < cr.end {
			return n, fmt.Errorf("chunk ended %d bytes early", cr.end-cr.off)
		}
		err = nil
	}
	return n, err
}

// WriteTo writes the file from the current offset to its end: a chunk held
// in memory in one write, a streamed one through io.Copy.
func (cr *chunkReader) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for cr.off < cr.m.Size {
		if cr.body == nil {
			if err := cr.open(); err != nil {
				return total, err
			}
		}
		var n int64
		var err error
		if fc, ok := cr.body.(*fetchedChunk); ok {
			var k int
			k, err = w.Write(fc.data[fc.off:])
			fc.off += k
			n = int64(k)
		} else {
			n, err = io.Copy(w, io.LimitReader(cr.body, cr.end-cr.off))
		}
		cr.off += n
		total += n
		if err != nil {
			return total, err
		}
		if cr.off < cr.end {
			return total, fmt.Errorf("chunk ended %d bytes early", cr.end-cr.off)
		}
		cr.closeBody()
	}
	return total, nil
}

// open makes body the stream of the chunk holding off: a chunk fetched
// ahead when it is the next one, else a ranged GET from off.
func (cr *chunkReader) open() error {
	i := cr.chunkAt(cr.off)
	if i < 0 {
		return fmt.Errorf("%w: no chunk holds byte %d", client.ErrBadManifest, cr.off)
	}
	ch := cr.m.Chunks[i]
	if len(cr.fetches) > 0 && cr.fetches[0].index == i && cr.off == ch.Offset {
		f := cr.fetches[0]
		cr.fetches = cr.fetches[1:]
		select {
		case <-f.done:
		case <-cr.ctx.Done():
			return cr.ctx.Err()
		}
		if f.err != nil {
			return f.err
		}
		if f.unused != nil {
			cr.spare = append(cr.spare, f.unused)
		}
		cr.body, cr.end = &fetchedChunk{data: f.data, cr: cr, release: f.release}, ch.Offset+ch.Size
		cr.readAhead(i + 1)
		return nil
	}
	cr.dropFetches()
	within := cr.off - ch.Offset
	if cr.local != nil {
		if data, release, ok := cr.local(cr.ctx, ch.Fid); ok {
			if int64(len(data)) != ch.Size {
				if release != nil {
					release()
				}
				return fmt.Errorf("chunk %s: %d bytes, the manifest says %d", ch.Fid, len(data), ch.Size)
			}
			// Not a spare for later fetches: the store's buffer.
			cr.body, cr.end = &fetchedChunk{data: data[within:], release: release}, ch.Offset+ch.Size
			cr.next = i + 1
			cr.readAhead(i + 1)
			return nil
		}
	}
	body, _, err := cr.c.Open(cr.ctx, ch.Fid, client.ReadOptions{Offset: within, Length: ch.Size - within})
	if err != nil {
		return fmt.Errorf("chunk %s: %w", ch.Fid, err)
	}
	cr.body, cr.end = body, ch.Offset+ch.Size
	cr.next = i + 1
	cr.readAhead(i + 1)
	return nil
}

// chunkAt is the index of the chunk holding byte off, or -1.
func (cr *chunkReader) chunkAt(off int64) int {
	for i, ch := range cr.m.Chunks {
		if off >= ch.Offset && off < ch.Offset+ch.Size {
			return i
		}
	}
	return -1
}

// readAhead starts fetches so the cr.ahead chunks from first are under
// way.
func (cr *chunkReader) readAhead(first int) {
	cr.next = max(cr.next, first)
	for cr.next < len(cr.m.Chunks) && cr.next < first+cr.ahead {
		ch := cr.m.Chunks[cr.next]
		if ch.Size > maxReadAheadChunk {
			return
		}
		ctx, cancel := context.WithCancel(cr.ctx)
		f := &chunkFetch{index: cr.next, cancel: cancel, done: make(chan struct{})}
		var buf []byte // nil: the fetch allocates one if it needs it
		if n := len(cr.spare); n > 0 && int64(cap(cr.spare[n-1])) >= ch.Size {
			buf, cr.spare = cr.spare[n-1][:ch.Size], cr.spare[:n-1]
		}
		go f.run(ctx, cr.c, cr.local, ch, buf)
		cr.fetches = append(cr.fetches, f)
		cr.next++
	}
}

func (f *chunkFetch) run(ctx context.Context, c *client.Client, local localReader, ch client.ChunkInfo, buf []byte) {
	defer close(f.done)
	if local != nil {
		if data, release, ok := local(ctx, ch.Fid); ok {
			if int64(len(data)) != ch.Size {
				if release != nil {
					release()
				}
				f.err = fmt.Errorf("chunk %s: %d bytes, the manifest says %d", ch.Fid, len(data), ch.Size)
				return
			}
			f.data, f.release, f.unused = data, release, buf
			return
		}
	}
	if buf == nil {
		buf = make([]byte, ch.Size)
	}
	body, _, err := c.Open(ctx, ch.Fid, client.ReadOptions{})
	if err != nil {
		f.err = fmt.Errorf("chunk %s: %w", ch.Fid, err)
		return
	}
	defer body.Close()
	if _, err := io.ReadFull(body, buf); err != nil {
		f.err = fmt.Errorf("chunk %s: %w", ch.Fid, err)
		return
	}
	if n, _ := body.Read(make([]byte, 1)); n > 0 {
		f.err = fmt.Errorf("chunk %s: longer than the %d bytes the manifest says", ch.Fid, ch.Size)
		return
	}
	f.data = buf
}

// dropFetches cancels the reads ahead; their buffers are left to the
// collector, as a cancelled fetch may still be writing to one.
func (cr *chunkReader) dropFetches() {
	for _, f := range cr.fetches {
		f.cancel()
	}
	cr.fetches = nil
	cr.next = 0
}

// fetchedChunk reads a chunk held in memory, and gives its buffer back once
// read: to the store's pool with release, else to the reader's spares
// (when cr is set: a buffer of the reader's own).
type fetchedChunk struct {
	data    []byte
	off     int
	cr      *chunkReader
	release func()
}

func (fc *fetchedChunk) Read(p []byte) (int, error) {
	if fc.off >= len(fc.data) {
		return 0, io.EOF
	}
	n := copy(p, fc.data[fc.off:])
	fc.off += n
	return n, nil
}

func (fc *fetchedChunk) Close() error {
	switch {
	case fc.release != nil:
		fc.release()
		fc.release = nil
	case fc.data != nil && fc.cr != nil:
		fc.cr.spare = append(fc.cr.spare, fc.data)
	}
	fc.data = nil
	return nil
}

func (cr *chunkReader) closeBody() {
	if cr.body != nil {
		cr.body.Close()
		cr.body = nil
	}
}

// Close releases the open chunk stream and the reads ahead.
func (cr *chunkReader) Close() error {
	cr.closeBody()
	cr.dropFetches()
	return nil
}
