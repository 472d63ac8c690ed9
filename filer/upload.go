package filer

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"weedfs.dev/weed/client"
)

// WriteOptions describe one file body written through the filer.
type WriteOptions struct {
	// Collection, Replication, TTL, DataCenter go to the master's assign
	// (empty: the filer's defaults).
	Collection, Replication, TTL, DataCenter string
	// ChunkSize overrides the filer's chunk size (SeaweedFS's maxMB).
	ChunkSize int64
	// Fsync asks volume servers to sync each chunk before answering.
	Fsync bool
	// SaveInside stores the body in the entry when it fits the filer's
	// SaveInsideLimit; false never does.
	SaveInside bool
	// ContentMD5 is the MD5 the client announced; a body that does not
	// match fails with ErrMD5Mismatch and leaves nothing behind.
	ContentMD5 []byte
}

// written is the outcome of uploading one body.
type written struct {
	chunks  []Chunk
	content []byte // the body when it was kept inside the entry
	size    int64
	md5     []byte
}

// chunkBuffers recycles chunk-sized buffers of the default size, so a busy
// filer does not allocate a fresh 8 MiB buffer per chunk.
type chunkBuffers struct {
	size int64
	pool sync.Pool
}

func (p *chunkBuffers) get(size int64) []byte {
	if size == p.size {
		if b, ok := p.pool.Get().(*[]byte); ok {
			return *b
		}
	}
	return make([]byte, size)
}

func (p *chunkBuffers) put(b []byte) {
	if int64(cap(b)) == p.size {
		b = b[:p.size]
		p.pool.Put(&b)
	}
}

// upload streams r into chunks stored on the volume servers, at most
// UploadParallel of them in flight, starting at file offset base. Each
// chunk's fid comes from a reservation recorded in the store (reserve.go)
// and is kept in rec. On failure every fid it took is queued for deletion
// and the error returned.
func (f *Filer) upload(ctx context.Context, r io.Reader, base int64, o WriteOptions, rec *uploadRecord) (*written, error) {
	size := o.ChunkSize
	if size <= 0 {
		size = f.opt.ChunkSize
	}
	h := md5.New()
	w := &written{}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	first := f.bufs.get(size)
	n, rerr := io.ReadFull(r, first)
	h.Write(first[:n])
	eof := rerr == io.EOF || rerr == io.ErrUnexpectedEOF
	if rerr != nil && !eof {
		f.bufs.put(first)
		return nil, fmt.Errorf("read body: %w", rerr)
	}
	if eof && o.SaveInside && int64(n) <= f.opt.SaveInsideLimit {
		w.content = append([]byte(nil), first[:n]...)
		f.bufs.put(first)
		w.size = int64(n)
		w.md5 = h.Sum(nil)
		return w, checkMD5(w.md5, o.ContentMD5)
	}

	// The MD5 of later chunks is taken by a goroutine of its own, so
	// hashing one chunk overlaps reading the next; a buffer goes back to
	// the pool only once both its hash and its upload are done.
	type hashJob struct {
		data   []byte
		hashed chan struct{}
	}
	hashq := make(chan hashJob, f.opt.UploadParallel)
	hashDone := make(chan struct{})
	go func() {
		defer close(hashDone)
		for j := range hashq {
			h.Write(j.data)
			close(j.hashed)
		}
	}()
	release := func(data []byte, hashed chan struct{}) {
		<-hashed
		f.bufs.put(data)
	}
	lane := f.res.lane()
	var (
		mu     sync.Mutex
		wg     sync.WaitGroup
		sem    = make(chan struct{}, f.opt.UploadParallel)
		chunks = map[int]Chunk{}
		index  = 0
		buf    = first[:n]
		hashed = make(chan struct{}) // the first chunk was hashed above
	)
	close(hashed)
	if n == 0 {
		f.bufs.put(first)
	}
	for len(buf) > 0 {
		sem <- struct{}{}
		x, err := f.res.take(ctx, o, lane+index)
		if err == nil {
			rec.add(x)
		}
		if err == nil {
			err = context.Cause(ctx)
		}
		if err != nil {
			<-sem
			release(buf, hashed)
			cancel(err)
			break
		}
		wg.Add(1)
		go func(i int, off int64, data []byte, hashed chan struct{}, x reserved) {
			defer func() { release(data, hashed); <-sem; wg.Done() }()
			// A chunk already on its way is let finish even when the upload
			// fails meanwhile: a request cut off client-side may still be
			// stored by the volume server after we gave up on it, and then
			// deleting it (now or by the next life's queue) could come first
			// and leave it behind. Bounded, so a hung server cannot hold us.
			sctx, scancel := context.WithTimeout(context.WithoutCancel(ctx), chunkStoreTimeout)
			defer scancel()
			c, err := f.storeChunk(sctx, x, data, off, o)
			if err != nil && ctx.Err() == nil {
				// The batch's volume may be full, read-only or gone: a
				// fresh fid from a fresh assign gets one more try. The
				// failed fid is deleted whatever becomes of the upload.
				rec.failed(x)
				f.res.retire(x)
				if x, err = f.res.take(sctx, o, lane+i); err == nil {
					rec.add(x)
					c, err = f.storeChunk(sctx, x, data, off, o)
				}
			}
			if err != nil {
				cancel(err)
				return
			}
			mu.Lock()
			chunks[i] = c
			mu.Unlock()
		}(index, base+w.size, buf, hashed, x)
		index++
		w.size += int64(len(buf))
		if eof {
			break
		}
		next := f.bufs.get(size)
		n, err := io.ReadFull(r, next)
		eof = err == io.EOF || err == io.ErrUnexpectedEOF
		if err != nil && !eof {
			f.bufs.put(next)
			cancel(fmt.Errorf("read body: %w", err))
			break
		}
		if n == 0 {
			f.bufs.put(next)
			break
		}
		buf, hashed = next[:n], make(chan struct{})
		hashq <- hashJob{buf, hashed}
	}
	close(hashq)
	<-hashDone
	wg.Wait()
	lastErr := context.Cause(ctx)
	if lastErr == nil {
		w.md5 = h.Sum(nil)
		lastErr = checkMD5(w.md5, o.ContentMD5)
	}
	if lastErr != nil {
		f.abandon(context.WithoutCancel(ctx), rec)
		return nil, lastErr
	}
	w.chunks = make([]Chunk, index)
	for i := range index {
		w.chunks[i] = chunks[i]
	}
	return w, nil
}

// chunkStoreTimeout bounds one chunk upload that is let finish after its
// file's upload failed.
const chunkStoreTimeout = 2 * time.Minute

func checkMD5(got, want []byte) error {
	if len(want) > 0 && !bytes.Equal(got, want) {
		return fmt.Errorf("%w: body has %s, header says %s", ErrMD5Mismatch, hex.EncodeToString(got), hex.EncodeToString(want))
	}
	return nil
}

// assignKeyOf is o's placement with the filer's defaults filled in.
func (f *Filer) assignKeyOf(o WriteOptions) assignKey {
	k := assignKey{collection: o.Collection, replication: o.Replication, ttl: o.TTL, dataCenter: o.DataCenter}
	if k.collection == "" {
		k.collection = f.opt.Collection
	}
	if k.replication == "" {
		k.replication = f.opt.Replication
	}
	if k.dataCenter == "" {
		k.dataCenter = f.opt.DataCenter
	}
	return k
}

// assign asks the master for count consecutive fids placed as o says.
func (f *Filer) assign(ctx context.Context, o WriteOptions, count uint64) (*client.Assignment, error) {
	k := f.assignKeyOf(o)
	ao := client.AssignOptions{Count: count, Collection: k.collection, Replication: k.replication, TTL: k.ttl, DataCenter: k.dataCenter}
	// A master growing volumes or changing leader refuses assigns for a
	// moment: try again twice before failing the upload (a spent key is
	// harmless).
	var err error
	for attempt, pause := 0, 100*time.Millisecond; attempt < 3; attempt, pause = attempt+1, pause*3 {
		var a *client.Assignment
		if a, err = f.blobs.Assign(ctx, ao); err == nil {
			return a, nil
		}
		if attempt == 2 {
			break
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("%w: %w", ErrBlobs, err)
		case <-t.C:
		}
	}
	return nil, fmt.Errorf("%w: %w", ErrBlobs, err)
}

// ErrBlobs: the master or a volume server failed a chunk operation.
var ErrBlobs = errors.New("filer: blob store")

// storeChunk sends one chunk, retrying a failed send once (the same bytes
// to the same fid are stored once).
func (f *Filer) storeChunk(ctx context.Context, x reserved, data []byte, off int64, o WriteOptions) (Chunk, error) {
	uo := client.UploadOptions{Raw: true, Mime: "application/octet-stream", JWT: x.Auth, TTL: o.TTL, Fsync: o.Fsync}
	var res *client.UploadResult
	var err error
	for attempt := 0; attempt < 2; attempt++ {
		if res, err = f.blobs.Upload(ctx, x.URL, x.Name, data, uo); err == nil || ctx.Err() != nil {
			break
		}
	}
	if err != nil {
		return Chunk{}, fmt.Errorf("%w: store chunk at %d: %w", ErrBlobs, off, err)
	}
	etag := res.ETag
	if etag == "" {
		sum := md5.Sum(data)
		etag = hex.EncodeToString(sum[:])
	}
	return Chunk{Fid: x.Fid, Offset: off, Size: uint64(len(data)), ModifiedTsNs: f.now().UnixNano(), ETag: etag}, nil
}

// abandon queues every fid of a failed upload for deletion; once that is
// committed the fids are settled. A store that fails here leaves them
// unsettled, so their reservation stays recorded and the next life of the
// filer deletes them.
func (f *Filer) abandon(ctx context.Context, rec *uploadRecord) {
	fids := rec.all()
	err := WithTx(ctx, f.store, func(ctx context.Context) error {
		return f.queueDeletion(ctx, fids)
	})
	if err != nil {
		f.log.Warn("queue chunks of a failed upload", "fids", len(fids), "err", err)
		return
	}
	rec.settle()
	f.nudgeDeletion()
}

// uploadRecord holds the reserved fids one upload took.
type uploadRecord struct {
	f   *Filer
	mu  sync.Mutex
	ok  []reserved // stored, or on their way
	bad []reserved // failed to store: deleted even when the upload succeeds
}

func (f *Filer) newUploadRecord() *uploadRecord {
	return &uploadRecord{f: f}
}

func (r *uploadRecord) add(x reserved) {
	r.mu.Lock()
	r.ok = append(r.ok, x)
	r.mu.Unlock()
}

// failed moves x from the stored fids to those to delete.
func (r *uploadRecord) failed(x reserved) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, y := range r.ok {
		if y == x {
			r.ok = append(r.ok[:i], r.ok[i+1:]...)
			break
		}
	}
	r.bad = append(r.bad, x)
}

// all lists every fid taken.
func (r *uploadRecord) all() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, 0, len(r.ok)+len(r.bad))
	for _, xs := range [][]reserved{r.ok, r.bad} {
		for _, x := range xs {
			out = append(out, x.Fid)
		}
	}
	return out
}

// commit runs inside the transaction that saves the upload's entry: it
// marks the stored fids as held by an entry and queues the failed ones.
func (r *uploadRecord) commit(ctx context.Context) error {
	r.mu.Lock()
	ok, bad := append([]reserved(nil), r.ok...), append([]reserved(nil), r.bad...)
	r.mu.Unlock()
	if err := r.f.res.markUsed(ctx, ok); err != nil {
		return err
	}
	badFids := make([]string, len(bad))
	for i, x := range bad {
		badFids[i] = x.Fid
	}
	return r.f.queueDeletion(ctx, badFids)
}

// settle tells the reservations the fids are accounted for, once the
// entry's transaction (or abandon's) is committed.
func (r *uploadRecord) settle() {
	r.mu.Lock()
	xs := append(append([]reserved(nil), r.ok...), r.bad...)
	bad := len(r.bad)
	r.mu.Unlock()
	r.f.res.settle(xs)
	if bad > 0 {
		r.f.nudgeDeletion()
	}
}
