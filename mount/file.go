package mount

import (
	"context"
	"sync"
	"time"

	"github.com/hanwen/go-fuse/v2/fuse"

	"weedfs.dev/weed/filer"
	"weedfs.dev/weed/storage/needle"
)

// wbuf is a piece of dirty file data: bytes [start, end) of data belong at
// file offset base+start. Once sealed it never changes, and is uploaded as
// one chunk.
type wbuf struct {
	base       int64
	data       []byte
	start, end int64
	// crc is the CRC-32C of data[start:end), summed as in-order writes
	// copied the bytes in (buffers.go, fill), unless crcLost: a write that
	// did not start at end (an overwrite, one before start) lost it.
	crc     uint32
	crcLost bool

	// owner keys the file in FS.vsync (its node; nil when unknown).
	owner any

	done chan struct{} // closed when the upload ended
	mu   sync.Mutex    // guards data (dropped after the upload), chunk, err
	up   filer.Chunk
	err  error
}

// openFile is the state of a regular file while handles are open on it,
// shared by all of them: the working entry (the committed chunk list plus
// the chunks uploaded since) and the dirty data not yet uploaded.
type openFile struct {
	fsys *FS
	// owner is the node the file's chunks are recorded under for fsync
	// (set by the first write). Guarded by mu.
	owner *node
	// commitMu orders commits: two flushes racing must not let an older
	// working entry reach the filer after a newer one.
	commitMu sync.Mutex

	mu     sync.Mutex
	entry  *filer.Entry // working copy; Chunks grow in write order
	view   view         // of entry.Chunks; nil when it must be rebuilt
	viewOK bool
	active *wbuf   // being filled
	sealed []*wbuf // uploading or uploaded, in write order
	err    error   // first upload failure since the last flush
	gen    uint64  // bumped on every change of the working entry
	saved  uint64  // gen of the last commit
	opens  int
	// readEnd is where the last read ended, to spot sequential reading.
	readEnd int64
}

func newOpenFile(fsys *FS, e *filer.Entry) *openFile {
	return &openFile{fsys: fsys, entry: e.Clone()}
}

func (f *openFile) dirty() bool { return f.gen != f.saved || f.active != nil || len(f.sealed) > 0 }

// snapshot returns the working entry as a stat would show it.
func (f *openFile) snapshot() *filer.Entry {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.entry.Clone()
}

// changed marks the working entry as changed now.
func (f *openFile) changed() {
	f.gen++
	f.entry.Mtime = time.Now()
	f.viewOK = false
}

// unInline moves inline content into a write buffer, so the file can
// grow into chunks. f.mu is held.
func (f *openFile) unInline() {
	if len(f.entry.Content) == 0 {
		f.entry.Content = nil
		return
	}
	c := f.entry.Content
	f.entry.Content = nil
	f.write(c, 0)
}

// write copies data to file offset off. f.mu is held.
func (f *openFile) write(data []byte, off int64) {
	if len(f.entry.Content) > 0 {
		f.unInline()
	}
	cs := f.fsys.opt.ChunkSize
	for len(data) > 0 {
		win := off / cs * cs
		in := off - win
		n := min(int64(len(data)), cs-in)
		if a := f.active; a != nil && (a.base != win || in > a.end || in+n < a.start) {
			f.seal()
		}
		if f.active == nil {
			b := f.getBuffer()
			if f.active != nil {
				// Another write filled one while the lock was let go.
				f.seal()
			}
			f.active = &wbuf{base: win, data: b, start: in, end: in}
			f.fsys.registerActive(f)
		}
		a := f.active
		a.fill(in, data[:n]) // copies, and sums while the bytes are in cache
		a.start = min(a.start, in)
		a.end = max(a.end, in+n)
		if end := uint64(off + n); end > f.entry.FileSize {
			f.entry.FileSize = end
		}
		if a.start == 0 && a.end == cs {
			f.seal()
		}
		data = data[n:]
		off += n
	}
	f.changed()
}

// getBuffer takes a write buffer from the pool. While it waits, f.mu is
// released so uploads and readers of this file go on, and other files are
// asked to seal their partial buffers.
func (f *openFile) getBuffer() []byte {
	if b, _ := f.fsys.bufs.tryGet(); b != nil {
		return b
	}
	f.mu.Unlock()
	b := f.fsys.bufs.get(func() { f.fsys.sealOthers(f) })
	f.mu.Lock()
	return b
}

// seal starts the upload of the active buffer. f.mu is held.
func (f *openFile) seal() {
	a := f.active
	if a == nil {
		return
	}
	f.active = nil
	f.fsys.unregisterActive(f)
	a.done = make(chan struct{})
	if f.owner != nil {
		a.owner = f.owner
	}
	f.sealed = append(f.sealed, a)
	go f.fsys.upload(a, f.entry.Collection, f.entry.Replication)
}

// waitUploads starts the upload of the active buffer (unless the file
// is small enough to be saved inline) and waits for every upload started.
// Upload errors are left for flush to report.
func (f *openFile) waitUploads() {
	f.mu.Lock()
	if f.active != nil && !f.inlineable() {
		f.seal()
	}
	waits := make([]chan struct{}, len(f.sealed))
	for i, w := range f.sealed {
		waits[i] = w.done
	}
	f.mu.Unlock()
	for _, ch := range waits {
		<-ch
	}
}

// chunkVolumes returns the volumes the file's chunks are on.
func (f *openFile) chunkVolumes() []uint32 {
	f.mu.Lock()
	defer f.mu.Unlock()
	var vids []uint32
	for _, c := range f.entry.Chunks {
		if id, err := needle.ParseFileID(c.Fid); err == nil {
			vids = append(vids, id.VolumeID)
		}
	}
	return vids
}

// drain moves finished uploads, in write order, into the working entry.
// f.mu is held.
func (f *openFile) drain() {
	for len(f.sealed) > 0 {
		w := f.sealed[0]
		select {
		case <-w.done:
		default:
			return
		}
		f.sealed = f.sealed[1:]
		w.mu.Lock()
		if w.err != nil {
			if f.err == nil {
				f.err = w.err
			}
			// The bytes are lost to the file (upload gave the buffer
			// back): the close or fsync that comes next reports it.
		} else {
			f.entry.Chunks = append(f.entry.Chunks, w.up)
			f.viewOK = false
		}
		w.mu.Unlock()
	}
}

// inlineable reports whether the file is just the active buffer and
// small enough to live inside its entry. f.mu is held.
func (f *openFile) inlineable() bool {
	a := f.active
	return a != nil && len(f.entry.Chunks) == 0 && len(f.sealed) == 0 && a.base == 0 && a.start == 0 &&
		uint64(a.end) == f.entry.FileSize && a.end <= f.fsys.opt.InlineLimit
}

// flushRounds bounds how often a flush goes back for data written while
// it waited for uploads.
const flushRounds = 4

// flush uploads what is buffered, waits for the uploads, and saves the
// working entry when it changed, waiting until the filer applied it
// (close: every client sees it, a crash of this process loses nothing),
// and when durable until the filer has it on stable storage too (fsync).
// It returns the first upload or save error since the last flush. The
// entry saved always holds all of the file's bytes: those of a small file
// still in the active buffer go in as inline content.
func (f *openFile) flush(ctx context.Context, n *node, durable bool) error {
	defer f.fsys.stats.since("flush", time.Now())
	f.commitMu.Lock()
	defer f.commitMu.Unlock()
	for round := 1; ; round++ {
		f.mu.Lock()
		if f.active != nil && !f.inlineable() {
			f.seal()
		}
		waits := make([]chan struct{}, len(f.sealed))
		for i, w := range f.sealed {
			waits[i] = w.done
		}
		f.mu.Unlock()
		for _, ch := range waits {
			<-ch
		}
		f.mu.Lock()
		f.drain()
		if err := f.err; err != nil {
			f.err = nil
			f.mu.Unlock()
			return err
		}
		pending := len(f.sealed) > 0 || (f.active != nil && !f.inlineable())
		if pending && round < flushRounds {
			f.mu.Unlock()
			continue
		}
		if f.gen == f.saved {
			f.mu.Unlock()
			return f.settled(ctx, n, durable)
		}
		e := f.entry.Clone()
		if f.inlineable() {
			e.Content = append([]byte(nil), f.active.data[:f.active.end]...)
		}
		f.saved = f.gen
		if f.inlineable() {
			// Keep the small file as content, not a whole buffer.
			a := f.active
			f.entry.Content = append([]byte(nil), a.data[:a.end]...)
			f.active = nil
			f.fsys.unregisterActive(f)
			f.fsys.bufs.put(a.data)
		}
		f.mu.Unlock()
		return f.fsys.save(ctx, n, e, durable)
	}
}

// settled waits for a save of the unchanged working entry still under
// way (the create of a file closed at once, a save being retried), and
// for durable, saves it again when the last save was not durable.
func (f *openFile) settled(ctx context.Context, n *node, durable bool) error {
	if p := f.fsys.wb.hurry(n); p != nil {
		if err := f.fsys.await(ctx, p); err != nil {
			return err
		}
	}
	if durable && n.unsynced.Load() {
		return f.fsys.save(ctx, n, f.snapshot(), true)
	}
	return nil
}

// truncate sets the file's size, clipping or dropping chunks past it,
// and with kill clears suid/sgid (killpriv.go). Buffers are flushed
// first, so only the chunk list changes.
func (f *openFile) truncate(ctx context.Context, n *node, size uint64, kill bool) error {
	if err := f.flush(ctx, n, false); err != nil {
		return err
	}
	f.mu.Lock()
	truncateEntry(f.entry, size)
	if kill {
		killEntry(f.entry)
	}
	f.changed()
	f.mu.Unlock()
	return f.flush(ctx, n, false)
}

// truncateEntry sets e's size: inline content is cut or padded; chunks
// wholly past size are dropped and one across it clipped, so growing the
// file later shows zeros, not old bytes.
func truncateEntry(e *filer.Entry, size uint64) {
	if len(e.Content) > 0 || len(e.Chunks) == 0 {
		if size <= uint64(len(e.Content)) {
			e.Content = e.Content[:size:size]
		} else if size <= 64<<10 && len(e.Chunks) == 0 {
			e.Content = append(e.Content, make([]byte, size-uint64(len(e.Content)))...)
		}
		if len(e.Content) == 0 {
			e.Content = nil
		}
	}
	if size < e.FileSize {
		var kept []filer.Chunk
		for _, c := range e.Chunks {
			if uint64(c.Offset) >= size {
				continue
			}
			if end := uint64(c.Offset) + c.Size; end > size {
				c.Size = size - uint64(c.Offset)
			}
			kept = append(kept, c)
		}
		e.Chunks = kept
	}
	e.FileSize = size
}

// read returns the file's bytes from offset off, at most len(dest) of
// them (fewer at its end), in dest or, when they lie in one window of the
// read cache, as that window itself (no copy; released once the kernel
// has them). The file's lock is held only to look at its state: fetching
// chunks goes on without it, so the kernel's concurrent reads (and
// writers) of the file do not wait for each other, unless dirty buffers
// overlay what is read.
func (f *openFile) read(ctx context.Context, dest []byte, off int64) (fuse.ReadResult, error) {
	f.mu.Lock()
	f.drain()
	size := int64(f.entry.FileSize)
	if off >= size {
		f.mu.Unlock()
		return fuse.ReadResultData(nil), nil
	}
	n := int(min(int64(len(dest)), size-off))
	buf := dest[:n]
	if len(f.entry.Content) > 0 {
		k := 0
		if off < int64(len(f.entry.Content)) {
			k = copy(buf, f.entry.Content[off:])
		}
		clear(buf[k:])
		f.mu.Unlock()
		return fuse.ReadResultData(buf), nil
	}
	if !f.viewOK {
		chunks, err := f.fsys.resolveManifests(ctx, f.entry.Chunks)
		if err != nil {
			f.mu.Unlock()
			return nil, err
		}
		f.view = buildView(chunks)
		f.viewOK = true
	}
	v := f.view // never changed once built
	seq := f.sequential(off)
	f.readEnd = off + int64(n)
	if f.active != nil || len(f.sealed) > 0 {
		defer f.mu.Unlock()
		if err := f.fsys.readView(ctx, v, buf, off, seq); err != nil {
			return nil, err
		}
		for _, w := range f.sealed {
			if err := f.fsys.overlay(ctx, w, buf, off); err != nil {
				return nil, err
			}
		}
		if f.active != nil {
			f.fsys.overlay(ctx, f.active, buf, off)
		}
		return fuse.ReadResultData(buf), nil
	}
	f.mu.Unlock()
	if r, err := f.fsys.readWindow(ctx, v, off, n, seq); r != nil || err != nil {
		return r, err
	}
	if err := f.fsys.readView(ctx, v, buf, off, seq); err != nil {
		return nil, err
	}
	return fuse.ReadResultData(buf), nil
}

// sequential reports whether a read at off continues the last one. The
// kernel sends a sequential reader's requests several at once, and they
// may arrive a little out of order. f.mu is held.
func (f *openFile) sequential(off int64) bool {
	const slack = 4 << 20
	return off >= f.readEnd-slack && off <= f.readEnd+slack
}
