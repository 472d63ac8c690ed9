package filer

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"weedfs.dev/weed/client"
	"weedfs.dev/weed/security"
)

// deleteBatch is how many queue records one round of the deletion loop
// takes, and deleteParallel how many fids it deletes at once.
const (
	deleteBatch    = 256
	deleteParallel = 8
)

// queueDeletion records fids to delete in the store's KV space (inside the
// caller's transaction when ctx carries one). The caller wakes the deletion
// loop with nudgeDeletion once the record is committed (Filer.tx does):
// a loop woken before would not see it.
func (f *Filer) queueDeletion(ctx context.Context, fids []string) error {
	if len(fids) == 0 {
		return nil
	}
	if p := pendingFrom(ctx); p != nil {
		p.queued()
	}
	// One record per few thousand fids keeps records small for any store.
	const perRecord = 4096
	for len(fids) > 0 {
		n := min(len(fids), perRecord)
		key := f.keys.next(deletionPrefix, f.now())
		if err := f.store.KvPut(ctx, key, encodeFids(fids[:n])); err != nil {
			return fmt.Errorf("queue chunk deletion: %w", err)
		}
		fids = fids[n:]
	}
	return nil
}

func (f *Filer) nudgeDeletion() {
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// deletionLoop drains the queue until ctx ends, pausing DeleteRetry after
// a round that left work behind.
func (f *Filer) deletionLoop(ctx context.Context) {
	for ctx.Err() == nil {
		left, err := f.DrainDeletions(ctx)
		if err != nil && ctx.Err() == nil {
			f.log.Warn("chunk deletion", "err", err)
		}
		// Without news, look again now and then: filers sharing the store
		// may have queued work, and failed rounds are retried.
		wait := 10 * time.Second
		if left || err != nil {
			wait = f.opt.DeleteRetry
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
		case <-f.wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// DrainDeletions runs one round of the deletion queue: it deletes the fids
// of up to deleteBatch records and removes each record whose fids are all
// gone (a fid already missing counts as gone). left reports records still
// queued: failed ones or more than one round's worth.
func (f *Filer) DrainDeletions(ctx context.Context) (left bool, err error) {
	type record struct {
		key  []byte
		fids []string
	}
	var recs []record
	var corrupt [][]byte
	err = f.store.KvScan(ctx, []byte(deletionPrefix), nil, deleteBatch+1, func(k, v []byte) bool {
		fids, derr := decodeFids(v)
		if derr != nil {
			f.log.Error("dropping corrupt deletion record", "key", fmt.Sprintf("%q", k), "err", derr)
			corrupt = append(corrupt, append([]byte(nil), k...))
			return true
		}
		recs = append(recs, record{key: append([]byte(nil), k...), fids: fids})
		return true
	})
	if err != nil {
		return true, fmt.Errorf("scan deletion queue: %w", err)
	}
	// A corrupt record can never succeed: it is dropped (after the scan,
	// so no store sees a write inside its own iteration).
	var scanErr error
	for _, k := range corrupt {
		scanErr = errors.Join(scanErr, f.store.KvDelete(ctx, k))
	}
	if len(recs) > deleteBatch {
		recs, left = recs[:deleteBatch], true
	}
	if len(recs) > 0 {
		// A record may come from a commit made with NoSync: deleting its
		// fids before that commit is durable would let a crash bring back
		// the entry that still points at them. One synced write makes
		// everything committed before it durable (stores keep one
		// ordered log).
		if err := f.store.KvPut(withSync(ctx), []byte(syncBarrierPrefix+f.opt.ID), nil); err != nil {
			return true, fmt.Errorf("sync the store before deleting chunks: %w", err)
		}
	}
	sem := make(chan struct{}, deleteParallel)
	var mu sync.Mutex
	var errs []error
	for _, r := range recs {
		failed := false
		var wg sync.WaitGroup
		for _, fid := range r.fids {
			sem <- struct{}{}
			wg.Add(1)
			go func() {
				defer func() { <-sem; wg.Done() }()
				derr := f.deleteChunk(ctx, fid)
				if derr != nil && !errors.Is(derr, client.ErrNotFound) {
					mu.Lock()
					failed = true
					if len(errs) < 4 {
						errs = append(errs, derr)
					}
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if failed {
			left = true
			continue
		}
		if derr := f.store.KvDelete(ctx, r.key); derr != nil {
			left = true
			errs = append(errs, derr)
		}
	}
	return left, errors.Join(append(errs, scanErr)...)
}

// PendingDeletions counts the fids waiting in the deletion queue.
func (f *Filer) PendingDeletions(ctx context.Context) (int, error) {
	n := 0
	err := f.store.KvScan(ctx, []byte(deletionPrefix), nil, 0, func(_, v []byte) bool {
		fids, _ := decodeFids(v)
		n += len(fids)
		return true
	})
	return n, err
}

// deleteChunk deletes one fid, signed with the cluster's write key when
// it has one (a fresh token per fid: a round may outlast one).
func (f *Filer) deleteChunk(ctx context.Context, fid string) error {
	token, err := security.Sign(f.opt.Security.Write, fid, f.now())
	if err != nil {
		return err
	}
	return f.blobs.Delete(ctx, fid, token)
}
