package embedded

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"

	"weedfs.dev/weed/filer"
)

// TestPowerCut takes a crash image of the file system (only what was
// synced) while 16 writers run, and checks that every write acknowledged
// before the image is in it and every transaction is whole. Unlike
// TestKill9 it fails if a write is acknowledged before its WAL sync.
func TestPowerCut(t *testing.T) {
	fs := vfs.NewCrashableMem()
	log := slog.New(slog.DiscardHandler)
	s, err := open("/db", log, fs)
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		acked []string
		next  atomic.Int64
		stop  atomic.Bool
		wg    sync.WaitGroup
	)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				i := next.Add(1)
				p := fmt.Sprintf("/pc/f%07d", i)
				ctx := context.Background()
				var err error
				if i%2 == 0 {
					err = s.InsertEntry(ctx, &filer.Entry{FullPath: p})
				} else {
					err = filer.WithTx(ctx, s, func(tx context.Context) error {
						if err := s.InsertEntry(tx, &filer.Entry{FullPath: p}); err != nil {
							return err
						}
						return s.KvPut(tx, []byte(p), []byte("tx"))
					})
				}
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				acked = append(acked, p)
				mu.Unlock()
			}
		}()
	}
	for {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 2000 {
			break
		}
		if t.Failed() {
			t.FailNow()
		}
		waitABit(s)
	}
	mu.Lock()
	before := append([]string(nil), acked...)
	mu.Unlock()
	crashed := fs.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: 0})
	stop.Store(true)
	wg.Wait()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s2, err := open("/db", log, crashed)
	if err != nil {
		t.Fatalf("open after power cut: %v", err)
	}
	defer s2.Close()
	ctx := context.Background()
	for _, p := range before {
		if _, err := s2.FindEntry(ctx, p); err != nil {
			t.Fatalf("%s acknowledged before the power cut, lost: %v", p, err)
		}
	}
	_, err = s2.ListDirectory(ctx, "/pc", "", false, "", 0, func(e *filer.Entry) bool {
		var i int
		fmt.Sscanf(e.Name(), "f%d", &i)
		if i%2 == 1 {
			if _, err := s2.KvGet(ctx, []byte(e.FullPath)); err != nil {
				t.Errorf("transaction of %s torn: %v", e.FullPath, err)
			}
		}
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d writes acknowledged before the cut; all present", len(before))
}

// waitABit lets the writers run: one synced read-write round trip.
func waitABit(s *Store) {
	_ = s.KvPut(context.Background(), []byte("tick"), nil)
}
