package filer_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"weedfs.dev/weed/filer"
	"weedfs.dev/weed/filer/filertest"
	"weedfs.dev/weed/filer/stores/embedded"
	"weedfs.dev/weed/pb"
)

// versions collects, per path, the FileSize of each saved version a
// follower got (the writers save versions 1, 2, 3, ... of each path).
type versions struct {
	mu   sync.Mutex
	seen map[string][]uint64
	n    int
}

func (v *versions) add(ev *pb.EntryEvent) {
	e := ev.GetNewEntry()
	if e == nil || e.IsDirectory {
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.seen == nil {
		v.seen = map[string][]uint64{}
	}
	v.seen[e.FullPath] = append(v.seen[e.FullPath], e.GetAttributes().GetFileSize())
	v.n++
}

func (v *versions) count() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.n
}

// check fails unless every path got versions 1..each, once each, in order.
func (v *versions) check(t *testing.T, who string, paths []string, each int) {
	t.Helper()
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, p := range paths {
		got := v.seen[p]
		ok := len(got) == each
		for i := 0; ok && i < each; i++ {
			ok = got[i] == uint64(i+1)
		}
		if !ok {
			t.Errorf("%s: %s got versions %v, want 1..%d in order", who, p, got, each)
		}
	}
}

// follow runs a follower from since into v until the test ends.
func follow(t *testing.T, f *filer.Filer, since time.Time, v *versions, block <-chan struct{}) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		f.Follow(ctx, filer.FollowOptions{Since: since}, func(ev *pb.EntryEvent) error {
			if block != nil {
				<-block
			}
			v.add(ev)
			return nil
		})
	}()
	t.Cleanup(func() { cancel(); <-done })
}

func waitCount(t *testing.T, ctx context.Context, who string, v *versions, n int) {
	t.Helper()
	for v.count() < n {
		select {
		case <-ctx.Done():
			t.Fatalf("%s: %d of %d events delivered", who, v.count(), n)
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// saveVersions saves versions 1..each of every path, one writer per path,
// concurrently; mid (when not nil) is closed after a third of them.
func saveVersions(t *testing.T, ctx context.Context, f *filer.Filer, paths []string, each int, mid chan struct{}) {
	var wg sync.WaitGroup
	for w, p := range paths {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 1; i <= each; i++ {
				e := &filer.Entry{FullPath: p, Mode: 0o644, Mtime: time.Now(), FileSize: uint64(i), Content: make([]byte, i%64)}
				if err := f.SaveEntry(filer.NoSync(ctx), e); err != nil {
					t.Error(err)
					return
				}
				if w == 0 && i == each/3 && mid != nil {
					close(mid)
				}
			}
		}()
	}
	wg.Wait()
}

// Each follower gets every version of each path once and in the order
// they were saved: one following from before the saves (all from the
// log), one that starts during them and catches up page by page through
// the store while they go on (the hand-over from the store to the log),
// and one that starts after them (all from the store).
func TestFollowOrderPerPath(t *testing.T) {
	c := filertest.Start(t, 1, 8)
	f := newFiler(t, c, newStore(t), "f1")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	paths := []string{"/o/a", "/o/b", "/o/c", "/o/d"}
	const each = 500 // 2,000 events: several pages of the store
	start := time.Now()
	var early, during, late versions
	follow(t, f, start, &early, nil)
	mid := make(chan struct{})
	go func() {
		select {
		case <-mid:
			follow(t, f, start, &during, nil)
		case <-ctx.Done():
		}
	}()
	saveVersions(t, ctx, f, paths, each, mid)
	follow(t, f, start, &late, nil)
	for _, x := range []struct {
		who string
		v   *versions
	}{{"early", &early}, {"during", &during}, {"late", &late}} {
		waitCount(t, ctx, x.who, x.v, len(paths)*each)
	}
	// A last save delivered to all shows nothing more was coming.
	if err := f.SaveEntry(ctx, &filer.Entry{FullPath: "/o/end", Mode: 0o644, FileSize: 1}); err != nil {
		t.Fatal(err)
	}
	for _, x := range []struct {
		who string
		v   *versions
	}{{"early", &early}, {"during", &during}, {"late", &late}} {
		waitCount(t, ctx, x.who, x.v, len(paths)*each+1)
		x.v.check(t, x.who, paths, each)
		x.v.check(t, x.who, []string{"/o/end"}, 1)
	}
}

// A follower that falls further behind than the filer's log holds (here
// 8 events) reads the store again and still gets every event once, each
// path's in order.
func TestFollowBehindTheLog(t *testing.T) {
	c := filertest.Start(t, 1, 8)
	f := newFiler(t, c, newStore(t), "f1")
	filer.SetEventLogBounds(f, 8, 1<<20, time.Hour)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	paths := []string{"/b/a", "/b/b", "/b/c"}
	const each = 100
	var slow, quick versions
	block := make(chan struct{})
	follow(t, f, time.Now(), &slow, block)
	follow(t, f, time.Now(), &quick, nil)
	saveVersions(t, ctx, f, paths, each, nil)
	if n := filer.EventLogLen(f); n > 8 {
		t.Fatalf("the log holds %d events, over its bound of 8", n)
	}
	close(block)
	waitCount(t, ctx, "slow", &slow, len(paths)*each)
	waitCount(t, ctx, "quick", &quick, len(paths)*each)
	if err := f.SaveEntry(ctx, &filer.Entry{FullPath: "/b/end", Mode: 0o644, FileSize: 1}); err != nil {
		t.Fatal(err)
	}
	waitCount(t, ctx, "slow", &slow, len(paths)*each+1)
	waitCount(t, ctx, "quick", &quick, len(paths)*each+1)
	slow.check(t, "slow", paths, each)
	quick.check(t, "quick", paths, each)
}

// Two filers over one store: each one's follower gets the other's events
// (found by its look at the store) and its own (from its log), each once,
// with a store that lists keys alone (embedded) and one that does not.
func TestFollowOtherFilersEvents(t *testing.T) {
	for _, st := range []struct {
		name string
		open func(t *testing.T) filer.Store
	}{
		{"embedded", func(t *testing.T) filer.Store { return newStore(t) }},
		{"mem", func(t *testing.T) filer.Store { return filertest.NewMemStore() }},
	} {
		t.Run(st.name, func(t *testing.T) {
			c := filertest.Start(t, 1, 8)
			s := st.open(t)
			a, b := newFiler(t, c, s, "a"), newFiler(t, c, s, "b")
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			var onA, onB versions
			follow(t, a, time.Now(), &onA, nil)
			follow(t, b, time.Now(), &onB, nil)
			const each = 50
			var wg sync.WaitGroup
			for _, x := range []struct {
				f    *filer.Filer
				name string
			}{{a, "a"}, {b, "b"}} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					saveVersions(t, ctx, x.f, []string{"/x/" + x.name}, each, nil)
				}()
			}
			wg.Wait()
			waitCount(t, ctx, "a", &onA, 2*each)
			waitCount(t, ctx, "b", &onB, 2*each)
			// One more each: nothing was delivered twice.
			for _, f := range []*filer.Filer{a, b} {
				if err := f.SaveEntry(ctx, &filer.Entry{FullPath: fmt.Sprintf("/x/end-%p", f), Mode: 0o644, FileSize: 1}); err != nil {
					t.Fatal(err)
				}
			}
			waitCount(t, ctx, "a", &onA, 2*each+2)
			waitCount(t, ctx, "b", &onB, 2*each+2)
			if onA.count() != 2*each+2 || onB.count() != 2*each+2 {
				t.Fatalf("delivered %d to a and %d to b, want %d each", onA.count(), onB.count(), 2*each+2)
			}
			onA.check(t, "a", []string{"/x/a", "/x/b"}, each)
			onB.check(t, "b", []string{"/x/a", "/x/b"}, each)
		})
	}
}

// hookStore wraps a store: it holds back the commit of a transaction that
// saves holdPath until release is closed, and runs afterFirstScan once,
// after the first page of keys a follower read.
type hookStore struct {
	*embedded.Store
	holdPath       string
	held           atomic.Bool
	holding        chan struct{} // closed once the held commit waits
	release        chan struct{}
	once           sync.Once
	afterFirstScan func()
}

type holdMark struct{ hold bool }

type holdKey struct{}

func (s *hookStore) BeginTx(ctx context.Context) (context.Context, error) {
	ctx, err := s.Store.BeginTx(ctx)
	return context.WithValue(ctx, holdKey{}, &holdMark{}), err
}

func (s *hookStore) InsertEntry(ctx context.Context, e *filer.Entry) error {
	if m, ok := ctx.Value(holdKey{}).(*holdMark); ok && e.FullPath == s.holdPath && s.held.CompareAndSwap(false, true) {
		m.hold = true // the first save of holdPath only
	}
	return s.Store.InsertEntry(ctx, e)
}

func (s *hookStore) CommitTx(ctx context.Context) error {
	if m, ok := ctx.Value(holdKey{}).(*holdMark); ok && m.hold {
		close(s.holding)
		<-s.release
	}
	return s.Store.CommitTx(ctx)
}

func (s *hookStore) KvScanKeys(ctx context.Context, prefix, start []byte, limit int, fn func([]byte) bool) error {
	err := s.Store.KvScanKeys(ctx, prefix, start, limit, fn)
	if string(prefix) == "ev/" && s.afterFirstScan != nil {
		s.once.Do(s.afterFirstScan)
	}
	return err
}

// A follower catching up through the store page by page while a save
// commits after the follower read the page holding its key, and a second
// save of the same path commits before the next page: the follower gets
// the two in the order they were made (the store scans leave both to the
// log), not the second from the store before the first from the log.
func TestFollowHandOverKeepsPathOrder(t *testing.T) {
	c := filertest.Start(t, 1, 8)
	st, err := embedded.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	hs := &hookStore{Store: st, holdPath: "/q/p", holding: make(chan struct{}), release: make(chan struct{})}
	f := newFiler(t, c, hs, "f1")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// Folders fill the pages: Mkdir takes no path lock, which the held
	// save keeps on its stripe.
	fill := func(from, to int) {
		for i := from; i < to; i++ {
			if _, err := f.Mkdir(filer.NoSync(ctx), fmt.Sprintf("/fill/%d", i), 0); err != nil {
				t.Fatal(err)
			}
		}
	}
	start := time.Now()
	fill(0, 100)
	saved := make(chan error, 1)
	go func() {
		saved <- f.SaveEntry(ctx, &filer.Entry{FullPath: "/q/p", Mode: 0o644, FileSize: 1})
	}()
	<-hs.holding // version 1 took its key and waits to commit
	fill(100, 700)
	hs.afterFirstScan = func() {
		close(hs.release)
		if err := <-saved; err != nil {
			t.Error(err)
		}
		if err := f.SaveEntry(ctx, &filer.Entry{FullPath: "/q/p", Mode: 0o644, FileSize: 2}); err != nil {
			t.Error(err)
		}
	}
	var v versions
	follow(t, f, start, &v, nil)
	waitCount(t, ctx, "follower", &v, 2)
	v.check(t, "follower", []string{"/q/p"}, 2)
}

// The store keeps events without inline content; a follower of the same
// filer caught up gets whole events from its log, and a follower reading
// the store back (another filer on the store, or this one after a
// restart) gets a new entry's content when the entry still holds those
// bytes, else the event marked new_content_omitted.
func TestStoredEventsLeaveOutContent(t *testing.T) {
	c := filertest.Start(t, 1, 8)
	s := newStore(t)
	f := newFiler(t, c, s, "f1")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	type seen struct {
		path, content, oldContent string
		newOmitted, oldOmitted    bool
	}
	collect := func(f *filer.Filer, n int) []seen {
		var got []seen
		fctx, stop := context.WithCancel(ctx)
		defer stop()
		f.Follow(fctx, filer.FollowOptions{Since: start}, func(ev *pb.EntryEvent) error {
			if ev.GetNewEntry().GetIsDirectory() {
				return nil
			}
			got = append(got, seen{ev.GetNewEntry().GetFullPath(), string(ev.GetNewEntry().GetContent()),
				string(ev.GetOldEntry().GetContent()), ev.NewContentOmitted, ev.OldContentOmitted})
			if len(got) == n {
				stop()
			}
			return nil
		})
		return got
	}
	live := make(chan []seen, 1)
	go func() { live <- collect(f, 4) }()
	save := func(p, content string) {
		t.Helper()
		if err := f.SaveEntry(ctx, &filer.Entry{FullPath: p, Mode: 0o644, FileSize: uint64(len(content)), Content: []byte(content)}); err != nil {
			t.Fatal(err)
		}
	}
	save("/c/x", "first")
	save("/c/x", "second")
	save("/c/y", "third")
	if _, err := f.Rename(ctx, "/c/y", "/c/z"); err != nil {
		t.Fatal(err)
	}
	// What the store holds: no content, marked, with the new content's CRC.
	err := s.KvScan(ctx, []byte("ev/"), nil, 0, func(_, v []byte) bool {
		ev, err := filer.DecodeEvent(v)
		if err != nil {
			t.Fatal(err)
		}
		if len(ev.GetNewEntry().GetContent()) > 0 || len(ev.GetOldEntry().GetContent()) > 0 {
			t.Errorf("stored event of %s holds content", ev.GetNewEntry().GetFullPath())
		}
		if !ev.GetNewEntry().GetIsDirectory() && (!ev.NewContentOmitted || ev.NewContentCrc32C == 0) {
			t.Errorf("stored event of %s is not marked", ev.GetNewEntry().GetFullPath())
		}
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []seen{{"/c/x", "first", "", false, false}, {"/c/x", "second", "first", false, false},
		{"/c/y", "third", "", false, false}, {"/c/z", "third", "third", false, false}}
	if got := <-live; !slices.Equal(got, want) {
		t.Errorf("live follower got %+v, want %+v", got, want)
	}
	// Another filer reads the events back from the store: /c/x's first
	// version and /c/y (moved away) are no longer in an entry, so their
	// events stay marked; the others get the content their entries hold.
	other := newFiler(t, c, s, "f2")
	want = []seen{{"/c/x", "", "", true, false}, {"/c/x", "second", "", false, true},
		{"/c/y", "", "", true, false}, {"/c/z", "third", "", false, true}}
	if got := collect(other, 4); !slices.Equal(got, want) {
		t.Errorf("follower reading the store got %+v, want %+v", got, want)
	}
}
