package filer

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
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
	fids    []string // every fid assigned, for cleanup
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
// UploadParallel of them in flight, starting at file offset base. The
// fids are recorded under rec before each chunk is sent. On failure every
// chunk it stored is queued for deletion and the error returned.
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
		a, err := f.assign(ctx, o)
		if err == nil {
			w.fids = append(w.fids, a.Fid)
			err = rec.add(ctx, a.Fid)
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
		go func(i int, off int64, data []byte, hashed chan struct{}, a *client.Assignment) {
			defer func() { release(data, hashed); <-sem; wg.Done() }()
			// A chunk already on its way is let finish even when the upload
			// fails meanwhile: a request cut off client-side may still be
			// stored by the volume server after we gave up on it, and then
			// deleting it (now or by the next life's queue) could come first
			// and leave it behind. Bounded, so a hung server cannot hold us.
			sctx, scancel := context.WithTimeout(context.WithoutCancel(ctx), chunkStoreTimeout)
			defer scancel()
			c, err := f.storeChunk(sctx, a, data, off, o)
			if err != nil {
				cancel(err)
				return
			}
			mu.Lock()
			chunks[i] = c
			mu.Unlock()
		}(index, base+w.size, buf, hashed, a)
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
		f.abandon(context.WithoutCancel(ctx), w.fids, rec)
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

func (f *Filer) assign(ctx context.Context, o WriteOptions) (*client.Assignment, error) {
	ao := client.AssignOptions{Collection: o.Collection, Replication: o.Replication, TTL: o.TTL, DataCenter: o.DataCenter}
	if ao.Collection == "" {
		ao.Collection = f.opt.Collection
	}
	if ao.Replication == "" {
		ao.Replication = f.opt.Replication
	}
	if ao.DataCenter == "" {
		ao.DataCenter = f.opt.DataCenter
	}
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
func (f *Filer) storeChunk(ctx context.Context, a *client.Assignment, data []byte, off int64, o WriteOptions) (Chunk, error) {
	uo := client.UploadOptions{Raw: true, Mime: "application/octet-stream", JWT: a.Auth, TTL: o.TTL, Fsync: o.Fsync}
	var res *client.UploadResult
	var err error
	for attempt := 0; attempt < 2; attempt++ {
		if res, err = f.blobs.Upload(ctx, a.URL, a.Fid, data, uo); err == nil || ctx.Err() != nil {
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
	return Chunk{Fid: a.Fid, Offset: off, Size: uint64(len(data)), ModifiedTsNs: f.now().UnixNano(), ETag: etag}, nil
}

// abandon queues the chunks of a failed upload for deletion and forgets
// the upload's record (in one transaction, so a crash in between leaves
// the record, which recovery turns into the same deletions).
func (f *Filer) abandon(ctx context.Context, fids []string, rec *uploadRecord) {
	err := WithTx(ctx, f.store, func(ctx context.Context) error {
		if err := f.queueDeletion(ctx, fids); err != nil {
			return err
		}
		return rec.forget(ctx)
	})
	if err != nil {
		f.log.Warn("queue chunks of a failed upload", "fids", len(fids), "err", err)
		return
	}
	f.nudgeDeletion()
}

// uploadRecord is the "up/" record of one upload in flight.
type uploadRecord struct {
	f    *Filer
	key  []byte
	mu   sync.Mutex
	fids []string
}

func (f *Filer) newUploadRecord() *uploadRecord {
	id := f.keys.seq.Add(1)
	key := uploadPrefix + f.opt.ID + "/" + strconv.FormatUint(uint64(f.now().UnixNano()), 16) + "-" + strconv.FormatUint(id, 16)
	return &uploadRecord{f: f, key: []byte(key)}
}

// add records fid before its chunk is sent.
func (r *uploadRecord) add(ctx context.Context, fid string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fids = append(r.fids, fid)
	if err := r.f.store.KvPut(ctx, r.key, encodeFids(r.fids)); err != nil {
		return fmt.Errorf("record upload: %w", err)
	}
	return nil
}

// forget removes the record (inside the caller's transaction).
func (r *uploadRecord) forget(ctx context.Context) error {
	r.mu.Lock()
	n := len(r.fids)
	r.mu.Unlock()
	if n == 0 {
		return nil
	}
	return r.f.store.KvDelete(ctx, r.key)
}

// recoverUploads queues the chunks of every upload a previous life of this
// filer (same ID) left in flight: their entries were never written.
func (f *Filer) recoverUploads(ctx context.Context) error {
	prefix := []byte(uploadPrefix + f.opt.ID + "/")
	type rec struct {
		key  []byte
		fids []string
	}
	var recs []rec
	err := f.store.KvScan(ctx, prefix, nil, 0, func(k, v []byte) bool {
		// Records this life made since it started are uploads in progress.
		ts, _, _ := strings.Cut(string(k[len(prefix):]), "-")
		if ns, err := strconv.ParseUint(ts, 16, 64); err == nil && int64(ns) >= f.started.UnixNano() {
			return true
		}
		fids, err := decodeFids(v)
		if err != nil {
			f.log.Error("corrupt upload record", "key", string(k), "err", err)
		}
		recs = append(recs, rec{key: append([]byte(nil), k...), fids: fids})
		return true
	})
	if err != nil {
		return err
	}
	for _, r := range recs {
		err := WithTx(ctx, f.store, func(ctx context.Context) error {
			if err := f.queueDeletion(ctx, r.fids); err != nil {
				return err
			}
			return f.store.KvDelete(ctx, r.key)
		})
		if err != nil {
			return err
		}
	}
	if len(recs) > 0 {
		f.nudgeDeletion()
		f.log.Info("queued chunks of uploads cut off by a restart", "uploads", len(recs))
	}
	return nil
}
