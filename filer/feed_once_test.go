package filer_test

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"weedfs.dev/weed/filer"
	"weedfs.dev/weed/filer/filertest"
	"weedfs.dev/weed/pb"
)

// TestFollowDeliversEachEventOnce: a follower that reads more than a page
// of events within the look-back window (concurrent saves, committed out
// of key order) gets every event exactly once, also after look-backs
// that read the window again.
func TestFollowDeliversEachEventOnce(t *testing.T) {
	c := filertest.Start(t, 1, 8)
	f := newFiler(t, c, newStore(t), "f1")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	var mu sync.Mutex
	got := map[string]int{}
	fctx, stop := context.WithCancel(ctx)
	followed := make(chan error, 1)
	go func() {
		followed <- f.Follow(fctx, filer.FollowOptions{Since: time.Now().Add(-time.Second)}, func(ev *pb.EntryEvent) error {
			if p := ev.GetNewEntry().GetFullPath(); p != "" {
				mu.Lock()
				got[p]++
				mu.Unlock()
			}
			return nil
		})
	}()

	if _, err := f.Mkdir(ctx, "/d", 0); err != nil {
		t.Fatal(err)
	}
	const writers, each = 8, 250 // 2000 events: several pages
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				e := &filer.Entry{FullPath: "/d/w" + strconv.Itoa(w) + "-" + strconv.Itoa(i), Mode: 0o644, Mtime: time.Now()}
				if err := f.SaveEntry(filer.NoSync(ctx), e); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	want := writers*each + 1 // and the folder /d
	waitFor := func(n int) {
		t.Helper()
		for {
			mu.Lock()
			k := len(got)
			mu.Unlock()
			if k >= n {
				return
			}
			select {
			case <-time.After(10 * time.Millisecond):
			case <-ctx.Done():
				t.Fatalf("%d of %d paths delivered", k, n)
			}
		}
	}
	waitFor(want)
	// Let look-backs over the window happen (it still holds every event),
	// then one more event ends the test once delivered.
	time.Sleep(time.Second)
	if err := f.SaveEntry(ctx, &filer.Entry{FullPath: "/end", Mode: 0o644, Mtime: time.Now()}); err != nil {
		t.Fatal(err)
	}
	waitFor(want + 1)
	stop()
	<-followed
	mu.Lock()
	defer mu.Unlock()
	dups := 0
	for p, n := range got {
		if n != 1 {
			dups++
			if dups <= 5 {
				t.Errorf("%s delivered %d times", p, n)
			}
		}
	}
	if dups > 0 {
		t.Errorf("%d of %d paths delivered more than once", dups, len(got))
	}
}
