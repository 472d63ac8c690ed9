package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"weedfs.dev/weed/storage/vfs"
)

// TestVolumeStress runs four workers, each owning its keys and checking
// every read against its own exact model, while compactions run one after
// another, then checks every model again after a reopen.
func TestVolumeStress(t *testing.T) {
	dir := t.TempDir()
	v := mustCreate(t, vfs.Default(), dir, VolumeOptions{})
	ctx := context.Background()
	const workers, keysEach, opsEach = 4, 40, 1500
	models := make([]map[uint64]keyState, workers)
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		models[w] = map[uint64]keyState{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- stressWorker(ctx, v, uint64(w), keysEach, opsEach, models[w])
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	rounds := 0
	for running := true; running && rounds < 50; rounds++ {
		if err := v.Compact(ctx); err != nil {
			t.Fatal(err)
		}
		if err := v.CommitCompact(ctx); err != nil {
			t.Fatal(err)
		}
		select {
		case <-done:
			running = false
		default:
		}
	}
	<-done
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := v.Close(); err != nil {
		t.Fatal(err)
	}
	v = mustOpen(t, vfs.Default(), dir, VolumeOptions{})
	defer v.Close()
	if rev := v.Info().CompactionRevision; int(rev) != rounds {
		t.Fatalf("compaction revision %d after %d compactions", rev, rounds)
	}
	t.Logf("%d compactions ran beside the workers", rounds)
	for w, m := range models {
		for k, s := range m {
			if err := checkKey(ctx, v, k, s); err != nil {
				t.Fatalf("worker %d after reopen: %v", w, err)
			}
		}
	}
}

func stressWorker(ctx context.Context, v *Volume, w uint64, keys, ops int, model map[uint64]keyState) error {
	r := rand.New(rand.NewPCG(w, 99))
	for i := range ops {
		k := w*1_000_000 + uint64(r.IntN(keys)) + 1
		s := model[k]
		switch op := r.IntN(10); {
		case op < 5: // write or overwrite
			if !s.present || s.deleted {
				s.cookie = r.Uint32()
			}
			size, seed := r.IntN(3000), uint64(i)<<8|w
			if _, err := v.Write(ctx, newTestNeedle(k, s.cookie, size, seed), WriteOptions{}); err != nil {
				return fmt.Errorf("write %d: %w", k, err)
			}
			model[k] = keyState{present: true, cookie: s.cookie, size: size, seed: seed}
		case op < 7 && s.present && !s.deleted: // delete
			if _, err := v.Delete(ctx, k, s.cookie, DeleteOptions{}); err != nil {
				return fmt.Errorf("delete %d: %w", k, err)
			}
			s.deleted = true
			model[k] = s
		default:
			if err := checkKey(ctx, v, k, s); err != nil {
				return err
			}
		}
	}
	for k, s := range model {
		if err := checkKey(ctx, v, k, s); err != nil {
			return err
		}
	}
	return nil
}

// checkKey reads k and compares it with its model state; after a
// compaction a deleted key may be gone rather than deleted.
func checkKey(ctx context.Context, v *Volume, k uint64, s keyState) error {
	n, err := v.Read(ctx, k, s.cookie, ReadOptions{})
	switch {
	case !s.present:
		if !errors.Is(err, ErrNotFound) {
			return fmt.Errorf("key %d: want not found, got %v", k, err)
		}
	case s.deleted:
		if !errors.Is(err, ErrDeleted) && !errors.Is(err, ErrNotFound) {
			return fmt.Errorf("key %d: want deleted, got %v", k, err)
		}
	case err != nil:
		return fmt.Errorf("key %d: %w", k, err)
	case !bytes.Equal(n.Data, testData(s.size, s.seed)):
		return fmt.Errorf("key %d: wrong bytes", k)
	}
	return nil
}
