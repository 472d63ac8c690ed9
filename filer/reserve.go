package filer

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"weedfs.dev/weed/storage/needle"
)

// Fid reservations: chunk fids are assigned in batches and recorded once
// per batch, not once per chunk.
//
// The master's assign with count=N reserves N consecutive needle keys under
// one cookie. Before the first of them is handed out, the whole batch is
// written (synced) under one "up/" key; a chunk's upload may start only
// then. The transaction that saves an entry also writes a "uu/" marker for
// each of its chunk fids, so a batch's record always tells which of its
// fids some entry may hold: the marked ones. A failed upload puts its fids
// on the deletion queue. When every fid handed out from a batch is settled
// (its entry committed, or its deletion queued) and no more will be handed
// out, the record and its markers are removed together. A filer that starts
// queues for deletion every fid of its previous life's records that carries
// no marker: fids that were never sent (deleting them finds nothing) and
// fids of uploads cut off, whose entries were never written.
//
// So a create costs one synced store commit (its entry) instead of two,
// and one master round trip per batch instead of one per chunk.

// Reservation sizes and ages.
const (
	// reserveCount fids are assigned at once.
	reserveCount = 128
	// reserveMaxAge: a batch older than this hands out no more fids, so
	// a volume that filled or went read-only meanwhile, or a write token
	// about to expire (SeaweedFS's default lifetime is 10 s), is not used.
	reserveMaxAge = 5 * time.Second
	// reserveTimeout bounds the assign and the synced record of a batch.
	reserveTimeout = 30 * time.Second
)

// usedPrefix keys the markers of fids an entry holds:
// "uu/" + filer id + "/" + record suffix + "/" + fid.
const usedPrefix = "uu/"

// assignKey is what makes fids of one batch fit a write: the assign's
// placement options, and the lane.
type assignKey struct {
	collection, replication, ttl, dataCenter string
	// lane: reserveLanes batches of one placement are open at once,
	// each from its own assign (so, as the master picks, usually on
	// different volumes), so the chunks of one body and the bodies of
	// concurrent creates do not all queue on one volume's appends.
	lane int
}

// reserveLanes is how many batches of one placement are open at once.
const reserveLanes = 4

// reservations hands out fids from open batches, one per assignKey.
type reservations struct {
	f  *Filer
	mu sync.Mutex
	// open holds the batch each assignKey takes fids from; a batch in
	// flight being refilled holds refill, which later takers wait on.
	open   map[assignKey]*batch
	refill map[assignKey]chan struct{}
	// live holds every batch not yet removed, for Close.
	live map[*batch]bool
	// nextLane spreads uploads over the lanes.
	nextLane atomic.Uint64
}

// batch is one reservation: count fids from base, recorded under key.
type batch struct {
	ak      assignKey
	key     []byte // the "up/" record
	used    string // prefix of its "uu/" markers
	base    needle.FileID
	baseFid string // the fid as assigned, for "<fid>_<i>" upload names
	url     string
	auth    string
	count   uint64
	made    time.Time
	// next is how many fids were handed out; unsettled how many of those
	// are not settled yet; closed: no more will be handed out.
	next      uint64
	unsettled int
	closed    bool
}

// reserved is one fid handed out from a batch.
type reserved struct {
	b *batch
	// Fid is the fid as entries keep it: the key with the batch offset
	// added ("<vid>,<key+i><cookie>").
	Fid string
	// Name is how it is sent: "<fid>_<i>" (the volume server adds i to
	// the key), so the master's write token for the batch's first fid
	// covers it.
	Name string
	URL  string
	Auth string
}

func (r *reservations) init(f *Filer) {
	r.f = f
	r.open = map[assignKey]*batch{}
	r.refill = map[assignKey]chan struct{}{}
	r.live = map[*batch]bool{}
}

// lane picks the lane of an upload's first chunk; chunk i of it takes
// lane+i.
func (r *reservations) lane() int {
	return int(r.nextLane.Add(1) % reserveLanes)
}

// take hands out a fid for a chunk written with o from lane (any int:
// taken modulo reserveLanes); its batch is recorded in the store before
// take returns.
func (r *reservations) take(ctx context.Context, o WriteOptions, lane int) (reserved, error) {
	k := r.f.assignKeyOf(o)
	k.lane = lane % reserveLanes
	for {
		r.mu.Lock()
		if b := r.open[k]; b != nil && !b.closed {
			if b.next < b.count && r.f.now().Sub(b.made) < reserveMaxAge {
				i := b.next
				b.next++
				b.unsettled++
				r.mu.Unlock()
				return b.fid(i), nil
			}
			if r.closeLocked(b) {
				r.mu.Unlock()
				r.remove(b, false)
				continue
			}
		}
		if wait, busy := r.refill[k]; busy {
			r.mu.Unlock()
			select {
			case <-wait:
				continue
			case <-ctx.Done():
				return reserved{}, context.Cause(ctx)
			}
		}
		done := make(chan struct{})
		r.refill[k] = done
		r.mu.Unlock()

		b, err := r.newBatch(ctx, o, k)
		r.mu.Lock()
		delete(r.refill, k)
		close(done)
		if err != nil {
			r.mu.Unlock()
			return reserved{}, err
		}
		r.open[k] = b
		r.live[b] = true
		r.mu.Unlock()
	}
}

// closeLocked stops b handing out fids. It reports whether b has nothing
// pending, so the caller removes it (after unlocking r.mu); otherwise the
// last settle does.
func (r *reservations) closeLocked(b *batch) bool {
	if b.closed {
		return false
	}
	b.closed = true
	if r.open[b.ak] == b {
		delete(r.open, b.ak)
	}
	return b.unsettled == 0
}

// retire closes the batch of a fid whose chunk failed to store, so the
// next chunk gets a fresh assign (the volume may be full or gone).
func (r *reservations) retire(x reserved) {
	r.mu.Lock()
	idle := r.closeLocked(x.b)
	r.mu.Unlock()
	if idle {
		r.remove(x.b, false)
	}
}

// settle marks fids as settled: their entry is committed or their
// deletion queued. A closed batch with nothing pending is removed.
func (r *reservations) settle(xs []reserved) {
	var done []*batch
	r.mu.Lock()
	for _, x := range xs {
		b := x.b
		b.unsettled--
		if b.unsettled > 0 {
			continue
		}
		if b.closed || b.next == b.count {
			b.closed = true
			if r.open[b.ak] == b {
				delete(r.open, b.ak)
			}
			done = append(done, b)
		}
	}
	r.mu.Unlock()
	for _, b := range done {
		r.remove(b, false)
	}
}

// remove deletes a settled batch's record and markers in one transaction.
// It need not be synced (a filer stopping syncs it, so its next life does
// not redo work): lost, record and markers come back together, and the
// next life deletes the unmarked fids, which were never stored or were
// queued for deletion already.
func (r *reservations) remove(b *batch, sync bool) {
	r.mu.Lock()
	if !r.live[b] {
		r.mu.Unlock()
		return
	}
	delete(r.live, b)
	r.mu.Unlock()
	// A context of its own: the caller's may be cancelled or carry a
	// transaction.
	ctx, cancel := context.WithTimeout(context.Background(), reserveTimeout)
	defer cancel()
	if !sync {
		ctx = NoSync(ctx)
	}
	var markers [][]byte
	err := r.f.store.KvScan(ctx, []byte(b.used), nil, 0, func(k, _ []byte) bool {
		markers = append(markers, append([]byte(nil), k...))
		return true
	})
	if err == nil {
		err = WithTx(ctx, r.f.store, func(ctx context.Context) error {
			for _, m := range markers {
				if err := r.f.store.KvDelete(ctx, m); err != nil {
					return err
				}
			}
			return r.f.store.KvDelete(ctx, b.key)
		})
	}
	if err != nil {
		r.f.log.Warn("remove a settled fid reservation", "key", string(b.key), "err", err)
	}
}

// closeAll closes every batch (Filer.Close): those with nothing pending
// are removed, so a clean stop leaves no reservation behind.
func (r *reservations) closeAll() {
	r.mu.Lock()
	var idle []*batch
	for b := range r.live {
		b.closed = true
		if b.unsettled == 0 {
			idle = append(idle, b)
		}
	}
	clear(r.open)
	r.mu.Unlock()
	for _, b := range idle {
		r.remove(b, true)
	}
}

// newBatch assigns reserveCount fids and records them, synced.
func (r *reservations) newBatch(ctx context.Context, o WriteOptions, k assignKey) (*batch, error) {
	// The record must reach stable storage whatever the caller's context
	// says, and must not join a transaction the caller may carry.
	rctx, cancel := context.WithTimeout(context.Background(), reserveTimeout)
	defer cancel()
	stop := context.AfterFunc(ctx, cancel)
	defer stop()
	a, err := r.f.assign(rctx, o, reserveCount)
	if err != nil {
		return nil, err
	}
	base, err := needle.ParseFileID(a.Fid)
	if err != nil {
		return nil, fmt.Errorf("%w: assign gave fid %q: %v", ErrBlobs, a.Fid, err)
	}
	count := a.Count
	if count == 0 || count > reserveCount {
		count = 1 // a master that ignores count reserves one
	}
	now := r.f.now()
	suffix := strconv.FormatUint(uint64(now.UnixNano()), 16) + "-" + strconv.FormatUint(r.f.keys.seq.Add(1), 16)
	b := &batch{
		ak:      k,
		key:     []byte(uploadPrefix + r.f.opt.ID + "/" + suffix),
		used:    usedPrefix + r.f.opt.ID + "/" + suffix + "/",
		base:    base,
		baseFid: a.Fid,
		url:     a.URL,
		auth:    a.Auth,
		count:   count,
		made:    now,
	}
	fids := make([]string, count)
	for i := range count {
		fids[i] = b.fid(i).Fid
	}
	if err := r.f.store.KvPut(rctx, b.key, encodeFids(fids)); err != nil {
		return nil, fmt.Errorf("record fid reservation: %w", err)
	}
	return b, nil
}

func (b *batch) fid(i uint64) reserved {
	id := needle.FileID{VolumeID: b.base.VolumeID, Key: b.base.Key + i, Cookie: b.base.Cookie}
	x := reserved{b: b, Fid: id.String(), Name: b.baseFid, URL: b.url, Auth: b.auth}
	if i > 0 {
		x.Name = b.baseFid + "_" + strconv.FormatUint(i, 10)
	}
	return x
}

// markUsed writes the markers of xs (inside the caller's transaction).
func (r *reservations) markUsed(ctx context.Context, xs []reserved) error {
	for _, x := range xs {
		if err := r.f.store.KvPut(ctx, []byte(x.b.used+x.Fid), []byte{}); err != nil {
			return fmt.Errorf("mark chunk used: %w", err)
		}
	}
	return nil
}

// recoverUploads queues for deletion the unmarked fids of every
// reservation a previous life of this filer (same ID) left: chunks of
// uploads whose entries were never written, and fids never sent.
func (f *Filer) recoverUploads(ctx context.Context) error {
	prefix := []byte(uploadPrefix + f.opt.ID + "/")
	type rec struct {
		key    []byte
		suffix string
		fids   []string
	}
	var recs []rec
	err := f.store.KvScan(ctx, prefix, nil, 0, func(k, v []byte) bool {
		suffix := string(k[len(prefix):])
		// Records this life made since it started are in use.
		ts, _, _ := strings.Cut(suffix, "-")
		if ns, err := strconv.ParseUint(ts, 16, 64); err == nil && int64(ns) >= f.started.UnixNano() {
			return true
		}
		fids, err := decodeFids(v)
		if err != nil {
			f.log.Error("corrupt upload record", "key", string(k), "err", err)
		}
		recs = append(recs, rec{key: append([]byte(nil), k...), suffix: suffix, fids: fids})
		return true
	})
	if err != nil {
		return err
	}
	queued := 0
	for _, r := range recs {
		used := usedPrefix + f.opt.ID + "/" + r.suffix + "/"
		var markers [][]byte
		marked := map[string]bool{}
		err := f.store.KvScan(ctx, []byte(used), nil, 0, func(k, _ []byte) bool {
			markers = append(markers, append([]byte(nil), k...))
			marked[string(k[len(used):])] = true
			return true
		})
		if err != nil {
			return err
		}
		var orphans []string
		for _, fid := range r.fids {
			if !marked[fid] {
				orphans = append(orphans, fid)
			}
		}
		queued += len(orphans)
		err = WithTx(ctx, f.store, func(ctx context.Context) error {
			if err := f.queueDeletion(ctx, orphans); err != nil {
				return err
			}
			for _, m := range markers {
				if err := f.store.KvDelete(ctx, m); err != nil {
					return err
				}
			}
			return f.store.KvDelete(ctx, r.key)
		})
		if err != nil {
			return err
		}
	}
	if len(recs) > 0 {
		f.nudgeDeletion()
		f.log.Info("queued unused fids of reservations left by a restart", "reservations", len(recs), "fids", queued)
	}
	return nil
}
