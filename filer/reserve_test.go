package filer_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"weedfs.dev/weed/client"
	"weedfs.dev/weed/filer"
	"weedfs.dev/weed/filer/filertest"
)

// kvKeys lists the keys under prefix with their values.
func kvKeys(t *testing.T, s filer.Store, prefix string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := s.KvScan(context.Background(), []byte(prefix), nil, 0, func(k, v []byte) bool {
		out[string(k)] = string(v)
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Creates share one reservation: one record of many fids, one marker per
// chunk an entry holds, the entries' fids among the record's; a clean
// stop removes record and markers.
func TestCreatesShareAReservation(t *testing.T) {
	c := filertest.Start(t, 1, 8)
	s := newStore(t)
	f := newFiler(t, c, s, "f1")
	ctx := context.Background()
	var chunkFids []string
	for i := range 10 {
		body := randomBytes(uint64(i), 2000+i) // above SaveInsideLimit: a blob
		e, err := f.WriteFile(ctx, fmt.Sprintf("/r/f%d", i), bytes.NewReader(body), filer.FileAttrs{}, filer.WriteOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, ch := range e.Chunks {
			chunkFids = append(chunkFids, ch.Fid)
		}
		if got := readAll(t, f, e.FullPath, 0, -1); !bytes.Equal(got, body) {
			t.Fatalf("f%d reads back %d bytes, want %d", i, len(got), len(body))
		}
	}
	recs := kvKeys(t, s, "up/f1/")
	if len(recs) == 0 || len(recs) > 4 {
		t.Fatalf("%d reservation records for 10 small creates, want one per lane used (at most 4)", len(recs))
	}
	var reserved []string
	for _, v := range recs {
		reserved = append(reserved, strings.Split(v, "\n")...)
	}
	if len(reserved) < len(chunkFids) {
		t.Fatalf("record holds %d fids for %d chunks", len(reserved), len(chunkFids))
	}
	markers := kvKeys(t, s, "uu/f1/")
	if len(markers) != len(chunkFids) {
		t.Fatalf("%d markers for %d chunks", len(markers), len(chunkFids))
	}
	seen := map[string]bool{}
	for _, fid := range chunkFids {
		if seen[fid] {
			t.Fatalf("fid %s used twice", fid)
		}
		seen[fid] = true
		found := false
		for m := range markers {
			found = found || strings.HasSuffix(m, "/"+fid)
		}
		if !found || !strings.Contains("\n"+strings.Join(reserved, "\n")+"\n", "\n"+fid+"\n") {
			t.Fatalf("chunk fid %s: marked %v, in the record: %v", fid, found, reserved)
		}
	}
	f.Close()
	if n, m := len(kvKeys(t, s, "up/")), len(kvKeys(t, s, "uu/")); n != 0 || m != 0 {
		t.Fatalf("after a clean stop: %d records, %d markers left", n, m)
	}
}

// A filer that dies with a reservation open: its next life deletes the
// fids no entry holds and keeps every file whole, then forgets the
// reservation.
func TestRestartKeepsChunksOfSavedEntries(t *testing.T) {
	c := filertest.Start(t, 1, 8)
	s := filertest.NewMemStore()
	f1 := newFiler(t, c, s, "f1")
	ctx := context.Background()
	bodies := map[string][]byte{}
	for i := range 5 {
		p := fmt.Sprintf("/k/f%d", i)
		bodies[p] = randomBytes(uint64(40+i), 100<<10+i) // two chunks each
		if _, err := f1.WriteFile(ctx, p, bytes.NewReader(bodies[p]), filer.FileAttrs{}, filer.WriteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	// A crash: f1's memory is gone, its store stays (f1 is not closed
	// before f2 starts, so it removes nothing).
	if len(kvKeys(t, s, "up/f1/")) == 0 {
		t.Fatal("no reservation recorded")
	}
	time.Sleep(2 * time.Millisecond) // f2 starts after f1's records were made
	f2 := newFiler(t, c, s, "f1")
	runCtx, stop := context.WithCancel(ctx)
	ran := make(chan struct{})
	go func() { f2.Run(runCtx); close(ran) }()
	defer func() { stop(); <-ran }()
	deadline := time.Now().Add(10 * time.Second)
	for len(kvKeys(t, s, "up/f1/")) > 0 || len(kvKeys(t, s, "uu/f1/")) > 0 {
		if time.Now().After(deadline) {
			t.Fatal("the restarted filer kept the old reservation")
		}
		time.Sleep(10 * time.Millisecond)
	}
	for {
		n, err := f2.PendingDeletions(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d deletions still queued", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	for p, want := range bodies {
		if got := readAll(t, f2, p, 0, -1); !bytes.Equal(got, want) {
			t.Fatalf("%s after the restart: %d bytes, want %d", p, len(got), len(want))
		}
	}
	if _, err := f2.FindEntry(ctx, "/k/none"); !errors.Is(err, filer.ErrNotFound) {
		t.Fatal(err)
	}
}

// failingBlobs fails every upload to the fids in fail, as a volume that
// filled up or went read-only would.
type failingBlobs struct {
	filer.Blobs
	mu    sync.Mutex
	fail  func(fid string) bool
	tried []string
}

func (b *failingBlobs) Upload(ctx context.Context, server, fid string, data []byte, o client.UploadOptions) (*client.UploadResult, error) {
	b.mu.Lock()
	b.tried = append(b.tried, fid)
	fail := b.fail(fid)
	b.mu.Unlock()
	if fail {
		return nil, errors.New("volume is read only")
	}
	return b.Blobs.Upload(ctx, server, fid, data, o)
}

// A chunk whose volume refuses it is sent again under a fid of a fresh
// assign; the file reads back, the refused fid is queued for deletion,
// and its batch is forgotten.
func TestChunkRetriesOnAFreshAssign(t *testing.T) {
	c := filertest.Start(t, 1, 8)
	s := filertest.NewMemStore()
	var first string
	blobs := &failingBlobs{Blobs: c.Client}
	blobs.fail = func(fid string) bool {
		if first == "" {
			first = fid
		}
		return fid == first
	}
	f := filer.New(s, blobs, filer.Options{ID: "f1", ChunkSize: 64 << 10, DeleteRetry: 50 * time.Millisecond, Logger: filertest.Logger()})
	t.Cleanup(func() { f.Close() })
	ctx := context.Background()
	body := randomBytes(80, 3000)
	e, err := f.WriteFile(ctx, "/retry", bytes.NewReader(body), filer.FileAttrs{}, filer.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, f, "/retry", 0, -1); !bytes.Equal(got, body) {
		t.Fatalf("read back %d bytes", len(got))
	}
	if len(e.Chunks) != 1 || e.Chunks[0].Fid == first {
		t.Fatalf("chunks %+v: want one, not at the refused fid %s", e.Chunks, first)
	}
	if n, err := f.PendingDeletions(ctx); err != nil || n != 1 {
		t.Fatalf("%d deletions queued (%v), want the refused fid", n, err)
	}
	if len(kvKeys(t, s, "up/f1/")) != 1 {
		t.Fatalf("reservations recorded: %v, want only the fresh one (the refused one is settled)", kvKeys(t, s, "up/f1/"))
	}
	f.Close()
	if n := len(kvKeys(t, s, "up/")); n != 0 {
		t.Fatalf("%d reservations left after a clean stop", n)
	}
}

// A batch older than its age limit hands out no more fids (its volume may
// have filled, its write token expired): later creates take from fresh
// batches, and the old batch, settled, is forgotten.
func TestOldReservationIsNotUsed(t *testing.T) {
	c := filertest.Start(t, 1, 8)
	s := filertest.NewMemStore()
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	f := filer.New(s, c.Client, filer.Options{ID: "f1", Now: clock, Logger: filertest.Logger()})
	t.Cleanup(func() { f.Close() })
	ctx := context.Background()
	write := func(p string) *filer.Entry {
		t.Helper()
		e, err := f.WriteFile(ctx, p, bytes.NewReader(randomBytes(1, 3000)), filer.FileAttrs{}, filer.WriteOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	var before []string
	for i := range 4 { // one create per lane
		before = append(before, write(fmt.Sprintf("/old%d", i)).Chunks[0].Fid)
	}
	oldRecs := kvKeys(t, s, "up/f1/")
	mu.Lock()
	now = now.Add(time.Minute)
	mu.Unlock()
	for i := range 4 {
		fid := write(fmt.Sprintf("/new%d", i)).Chunks[0].Fid
		for k, v := range oldRecs {
			if strings.Contains("\n"+v+"\n", "\n"+fid+"\n") {
				t.Fatalf("create after the age limit took %s from the old batch %s", fid, k)
			}
		}
	}
	for k := range oldRecs {
		if _, ok := kvKeys(t, s, "up/f1/")[k]; ok {
			t.Fatalf("old batch %s is still recorded", k)
		}
	}
	for i, fid := range before {
		if !c.BlobExists(t, fid) {
			t.Fatalf("/old%d's chunk %s is gone", i, fid)
		}
	}
}
