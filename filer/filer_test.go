package filer_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"errors"
	"io"
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"
	"time"

	"weedfs.dev/weed/filer"
	"weedfs.dev/weed/filer/filertest"
	"weedfs.dev/weed/pb"
)

// newFiler is a filer with small chunks over a fresh store and cluster.
func newFiler(t *testing.T, c *filertest.Cluster, s filer.Store, id string) *filer.Filer {
	t.Helper()
	f := filer.New(s, c.Client, filer.Options{ID: id, ChunkSize: 64 << 10, SaveInsideLimit: 1024,
		DeleteRetry: 50 * time.Millisecond, Logger: filertest.Logger()})
	t.Cleanup(func() { f.Close() })
	return f
}

func randomBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func readAll(t *testing.T, f *filer.Filer, p string, off, n int64) []byte {
	t.Helper()
	e, err := f.FindEntry(context.Background(), p)
	if err != nil {
		t.Fatalf("find %s: %v", p, err)
	}
	var buf bytes.Buffer
	if err := f.WriteRange(context.Background(), &buf, e, off, n); err != nil {
		t.Fatalf("read %s: %v", p, err)
	}
	return buf.Bytes()
}

// drain empties the deletion queue or fails.
func drain(t *testing.T, f *filer.Filer) {
	t.Helper()
	for i := 0; i < 20; i++ {
		left, err := f.DrainDeletions(context.Background())
		if err == nil && !left {
			return
		}
	}
	t.Fatal("deletion queue does not drain")
}

func fids(e *filer.Entry) []string {
	var out []string
	for _, c := range e.Chunks {
		out = append(out, c.Fid)
	}
	return out
}

func TestWriteReadChunked(t *testing.T) {
	c := filertest.Start(t, 1, 8)
	f := newFiler(t, c, newStore(t), "f1")
	ctx := context.Background()
	body := randomBytes(1, 1<<20+12345)
	e, err := f.WriteFile(ctx, "/a/b/c.bin", bytes.NewReader(body), filer.FileAttrs{Mime: "application/x-test"}, filer.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sum := md5.Sum(body)
	if !bytes.Equal(e.Md5, sum[:]) || e.FileSize != uint64(len(body)) {
		t.Fatalf("entry md5 %x size %d, want %x %d", e.Md5, e.FileSize, sum, len(body))
	}
	if want := (len(body) + 64<<10 - 1) / (64 << 10); len(e.Chunks) != want {
		t.Fatalf("%d chunks, want %d", len(e.Chunks), want)
	}
	var next int64
	for i, ch := range e.Chunks {
		if ch.Offset != next {
			t.Fatalf("chunk %d at %d, want %d", i, ch.Offset, next)
		}
		next += int64(ch.Size)
	}
	if got := readAll(t, f, "/a/b/c.bin", 0, -1); !bytes.Equal(got, body) {
		t.Fatalf("read back %d bytes, differ from the %d written", len(got), len(body))
	}
	for _, r := range [][2]int64{{0, 1}, {65535, 2}, {100000, 300000}, {int64(len(body)) - 10, 10}, {int64(len(body)) - 10, 100}} {
		got := readAll(t, f, "/a/b/c.bin", r[0], r[1])
		end := min(r[0]+r[1], int64(len(body)))
		if !bytes.Equal(got, body[r[0]:end]) {
			t.Fatalf("range %v: got %d bytes, differ", r, len(got))
		}
	}
	// Parents were made as folders.
	for _, d := range []string{"/a", "/a/b"} {
		de, err := f.FindEntry(ctx, d)
		if err != nil || !de.IsDirectory() {
			t.Fatalf("parent %s: %v %v", d, de, err)
		}
	}
}

func TestSmallFileInsideEntry(t *testing.T) {
	c := filertest.Start(t, 1, 8)
	f := newFiler(t, c, newStore(t), "f1")
	e, err := f.WriteFile(context.Background(), "/s.txt", bytes.NewReader([]byte("small")), filer.FileAttrs{}, filer.WriteOptions{SaveInside: true})
	if err != nil {
		t.Fatal(err)
	}
	if string(e.Content) != "small" || len(e.Chunks) != 0 {
		t.Fatalf("content %q chunks %d, want inline", e.Content, len(e.Chunks))
	}
	if got := readAll(t, f, "/s.txt", 1, 3); string(got) != "mal" {
		t.Fatalf("range read %q", got)
	}
	// Without SaveInside the same body goes to a blob.
	e, err = f.WriteFile(context.Background(), "/s2.txt", bytes.NewReader([]byte("small")), filer.FileAttrs{}, filer.WriteOptions{})
	if err != nil || len(e.Chunks) != 1 || e.Content != nil {
		t.Fatalf("blob write: %+v %v", e, err)
	}
}

func TestOverwriteAndDeleteFreeChunks(t *testing.T) {
	c := filertest.Start(t, 1, 8)
	f := newFiler(t, c, newStore(t), "f1")
	ctx := context.Background()
	old, err := f.WriteFile(ctx, "/x", bytes.NewReader(randomBytes(2, 200<<10)), filer.FileAttrs{}, filer.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	body := randomBytes(3, 100<<10)
	cur, err := f.WriteFile(ctx, "/x", bytes.NewReader(body), filer.FileAttrs{}, filer.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := f.PendingDeletions(ctx); n != len(old.Chunks) {
		t.Fatalf("%d pending deletions after overwrite, want %d", n, len(old.Chunks))
	}
	drain(t, f)
	for _, fid := range fids(old) {
		if c.BlobExists(t, fid) {
			t.Fatalf("old chunk %s still stored after overwrite", fid)
		}
	}
	if got := readAll(t, f, "/x", 0, -1); !bytes.Equal(got, body) {
		t.Fatal("new body not read back")
	}
	if err := f.DeleteEntry(ctx, "/x", filer.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.FindEntry(ctx, "/x"); !errors.Is(err, filer.ErrNotFound) {
		t.Fatalf("after delete: %v", err)
	}
	drain(t, f)
	for _, fid := range fids(cur) {
		if c.BlobExists(t, fid) {
			t.Fatalf("chunk %s still stored after delete", fid)
		}
	}
	// Deleting what is not there is fine.
	if err := f.DeleteEntry(ctx, "/x", filer.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
}

func TestDeleteFolder(t *testing.T) {
	c := filertest.Start(t, 1, 8)
	f := newFiler(t, c, newStore(t), "f1")
	ctx := context.Background()
	var all []string
	for _, p := range []string{"/d/1", "/d/sub/2", "/d/sub/deeper/3", "/dd/keep"} {
		e, err := f.WriteFile(ctx, p, bytes.NewReader(randomBytes(4, 70<<10)), filer.FileAttrs{}, filer.WriteOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if p != "/dd/keep" {
			all = append(all, fids(e)...)
		}
	}
	if err := f.DeleteEntry(ctx, "/d", filer.DeleteOptions{}); !errors.Is(err, filer.ErrNotEmpty) {
		t.Fatalf("non-recursive delete of a full folder: %v, want ErrNotEmpty", err)
	}
	if _, err := f.FindEntry(ctx, "/d/sub/2"); err != nil {
		t.Fatalf("refused delete removed a child: %v", err)
	}
	if err := f.DeleteEntry(ctx, "/d", filer.DeleteOptions{Recursive: true}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/d", "/d/1", "/d/sub", "/d/sub/deeper/3"} {
		if _, err := f.FindEntry(ctx, p); !errors.Is(err, filer.ErrNotFound) {
			t.Fatalf("%s after recursive delete: %v", p, err)
		}
	}
	if _, err := f.FindEntry(ctx, "/dd/keep"); err != nil {
		t.Fatalf("sibling with a shared prefix was deleted: %v", err)
	}
	drain(t, f)
	for _, fid := range all {
		if c.BlobExists(t, fid) {
			t.Fatalf("chunk %s of a deleted subtree still stored", fid)
		}
	}
}

func TestConflicts(t *testing.T) {
	c := filertest.Start(t, 1, 8)
	f := newFiler(t, c, newStore(t), "f1")
	ctx := context.Background()
	if _, err := f.WriteFile(ctx, "/file", bytes.NewReader([]byte("x")), filer.FileAttrs{}, filer.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Mkdir(ctx, "/dir", 0); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		do   func() error
	}{
		{"file under a file", func() error {
			_, err := f.WriteFile(ctx, "/file/child", bytes.NewReader([]byte("y")), filer.FileAttrs{}, filer.WriteOptions{})
			return err
		}},
		{"file over a folder", func() error {
			_, err := f.WriteFile(ctx, "/dir", bytes.NewReader([]byte("y")), filer.FileAttrs{}, filer.WriteOptions{})
			return err
		}},
		{"folder over a file", func() error { _, err := f.Mkdir(ctx, "/file", 0); return err }},
		{"folder under a file", func() error { _, err := f.Mkdir(ctx, "/file/sub", 0); return err }},
		{"rename a file over a folder", func() error { _, err := f.Rename(ctx, "/file", "/dir"); return err }},
	}
	for _, tc := range cases {
		if err := tc.do(); !errors.Is(err, filer.ErrConflict) {
			t.Errorf("%s: %v, want ErrConflict", tc.name, err)
		}
	}
	e, err := f.FindEntry(ctx, "/file")
	if err != nil || e.IsDirectory() || e.FileSize != 1 {
		t.Fatalf("/file changed: %+v %v", e, err)
	}
	if _, err := f.FindEntry(ctx, "/file/child"); err == nil {
		t.Fatal("an entry was made under a file")
	}
	// Conflicts are found before any chunk is sent: nothing to clean up.
	if n, _ := f.PendingDeletions(ctx); n != 0 {
		t.Fatalf("%d chunks queued after refused writes, want none sent", n)
	}
	for _, p := range []string{"/a/../b", "/a//\x00", "relative", "/" + string(bytes.Repeat([]byte("n"), 256))} {
		if _, err := f.WriteFile(ctx, p, bytes.NewReader(nil), filer.FileAttrs{}, filer.WriteOptions{}); !errors.Is(err, filer.ErrBadPath) {
			t.Errorf("write %q: %v, want ErrBadPath", p, err)
		}
	}
}

func TestRenameFolderOfManyEntries(t *testing.T) {
	c := filertest.Start(t, 1, 8)
	f := newFiler(t, c, newStore(t), "f1")
	ctx := context.Background()
	n := 10000
	if testing.Short() {
		n = 1000
	}
	for d := range 10 {
		if _, err := f.Mkdir(ctx, "/src/d"+strconv.Itoa(d), 0); err != nil {
			t.Fatal(err)
		}
	}
	// The entries go in through the store in batches: this test is of the
	// move, and 10,000 synced creates would take most of its time.
	err := filer.WithTx(ctx, f.Store(), func(ctx context.Context) error {
		for i := range n {
			e := &filer.Entry{FullPath: "/src/d" + strconv.Itoa(i%10) + "/f" + strconv.Itoa(i), Mode: 0o644, FileSize: uint64(i), Mtime: time.Now()}
			if err := f.Store().InsertEntry(ctx, e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Rename(ctx, "/src", "/dst/moved"); err != nil {
		t.Fatal(err)
	}
	count := 0
	for d := range 10 {
		last, start := "", ""
		for {
			got := 0
			var err error
			last, err = f.List(ctx, "/dst/moved/d"+strconv.Itoa(d), filer.ListOptions{StartName: start, Limit: 500}, func(e *filer.Entry) bool {
				got++
				return true
			})
			if err != nil {
				t.Fatal(err)
			}
			count += got
			if got < 500 {
				break
			}
			start = last
		}
	}
	if count != n {
		t.Fatalf("%d entries after the move, want %d", count, n)
	}
	e, err := f.FindEntry(ctx, "/dst/moved/d7/f17")
	if err != nil || e.FileSize != 17 {
		t.Fatalf("moved entry: %+v %v", e, err)
	}
	if _, err := f.FindEntry(ctx, "/src"); !errors.Is(err, filer.ErrNotFound) {
		t.Fatalf("source still there: %v", err)
	}
	if _, err := f.FindEntry(ctx, "/src/d1/f1"); !errors.Is(err, filer.ErrNotFound) {
		t.Fatalf("source child still there: %v", err)
	}
	if _, err := f.Rename(ctx, "/dst", "/dst/moved/inside"); !errors.Is(err, filer.ErrBadRename) {
		t.Fatalf("move into own subtree: %v", err)
	}
	if _, err := f.Rename(ctx, "/nope", "/x"); !errors.Is(err, filer.ErrNotFound) {
		t.Fatalf("move of a missing entry: %v", err)
	}
}

func TestRenameFileOverFile(t *testing.T) {
	c := filertest.Start(t, 1, 8)
	f := newFiler(t, c, newStore(t), "f1")
	ctx := context.Background()
	a, _ := f.WriteFile(ctx, "/a", bytes.NewReader([]byte("aaaa")), filer.FileAttrs{}, filer.WriteOptions{})
	b, _ := f.WriteFile(ctx, "/b", bytes.NewReader([]byte("bb")), filer.FileAttrs{}, filer.WriteOptions{})
	if _, err := f.Rename(ctx, "/a", "/b"); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, f, "/b", 0, -1); string(got) != "aaaa" {
		t.Fatalf("/b reads %q", got)
	}
	drain(t, f)
	if c.BlobExists(t, b.Chunks[0].Fid) || !c.BlobExists(t, a.Chunks[0].Fid) {
		t.Fatal("the replaced file's chunk must go and the moved one stay")
	}
}

// failingReader returns data then an error, as a client cut off half-way.
type failingReader struct {
	data []byte
	err  error
}

func (r *failingReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

func TestCutOffUploadLeavesNothing(t *testing.T) {
	c := filertest.Start(t, 1, 8)
	s := newStore(t)
	f := newFiler(t, c, s, "f1")
	ctx := context.Background()
	cut := errors.New("connection reset")
	_, err := f.WriteFile(ctx, "/cut/off.bin", &failingReader{data: randomBytes(5, 300<<10), err: cut}, filer.FileAttrs{}, filer.WriteOptions{})
	if !errors.Is(err, cut) {
		t.Fatalf("cut-off upload: %v, want the read error", err)
	}
	if _, err := f.FindEntry(ctx, "/cut/off.bin"); !errors.Is(err, filer.ErrNotFound) {
		t.Fatalf("entry after a cut-off upload: %v", err)
	}
	queued := queuedFids(t, s)
	if len(queued) < 4 {
		t.Fatalf("%d chunks queued, want the 4+ already sent", len(queued))
	}
	drain(t, f)
	for _, fid := range queued {
		if c.BlobExists(t, fid) {
			t.Fatalf("chunk %s of a cut-off upload still stored", fid)
		}
	}
	// A body whose MD5 does not match is refused the same way.
	_, err = f.WriteFile(ctx, "/md5", bytes.NewReader([]byte("hello")), filer.FileAttrs{}, filer.WriteOptions{ContentMD5: make([]byte, 16)})
	if !errors.Is(err, filer.ErrMD5Mismatch) {
		t.Fatalf("md5 mismatch: %v", err)
	}
	if _, err := f.FindEntry(ctx, "/md5"); !errors.Is(err, filer.ErrNotFound) {
		t.Fatalf("entry after md5 mismatch: %v", err)
	}
}

// queuedFids lists the fids in the deletion queue, read from the store.
func queuedFids(t *testing.T, s filer.Store) []string {
	t.Helper()
	var out []string
	err := s.KvScan(context.Background(), []byte("dq/"), nil, 0, func(_, v []byte) bool {
		for _, f := range bytes.Split(v, []byte("\n")) {
			out = append(out, string(f))
		}
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// blockingReader hands out data, then blocks until release, then fails.
type blockingReader struct {
	data    []byte
	reached chan struct{}
	release chan struct{}
}

func (r *blockingReader) Read(p []byte) (int, error) {
	if len(r.data) > 0 {
		n := copy(p, r.data)
		r.data = r.data[n:]
		return n, nil
	}
	close(r.reached)
	<-r.release
	return 0, io.ErrUnexpectedEOF
}

// A filer that dies with an upload in flight leaves its chunks recorded;
// its next life queues them and deletes them. The store going down makes
// the failed upload unable to clean up, as a crash would.
func TestRestartDeletesChunksOfUploadsInFlight(t *testing.T) {
	c := filertest.Start(t, 1, 8)
	s := filertest.NewMemStore()
	f1 := newFiler(t, c, s, "f1")
	ctx := context.Background()
	r := &blockingReader{data: randomBytes(6, 200<<10), reached: make(chan struct{}), release: make(chan struct{})}
	done := make(chan error, 1)
	go func() {
		_, err := f1.WriteFile(ctx, "/inflight", r, filer.FileAttrs{}, filer.WriteOptions{})
		done <- err
	}()
	<-r.reached
	var inflight []string
	s.KvScan(ctx, []byte("up/f1/"), nil, 0, func(_, v []byte) bool {
		for _, f := range bytes.Split(v, []byte("\n")) {
			inflight = append(inflight, string(f))
		}
		return true
	})
	// The reader is drained once the three whole chunks are cut; their
	// uploads may still be on their way.
	stored := func() int {
		n := 0
		for _, fid := range inflight {
			if c.BlobExists(t, fid) {
				n++
			}
		}
		return n
	}
	for wait := time.Now().Add(10 * time.Second); stored() < 3; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(wait) {
			t.Fatalf("%d fids of the reservation record are stored, want the 3 chunks sent", stored())
		}
	}
	s.SetDown(true)
	close(r.release)
	if err := <-done; err == nil {
		t.Fatal("upload succeeded with its body cut")
	}
	s.SetDown(false)
	f1.Close()

	f2 := newFiler(t, c, s, "f1")
	runCtx, stop := context.WithCancel(ctx)
	ran := make(chan struct{})
	go func() { f2.Run(runCtx); close(ran) }()
	defer func() { stop(); <-ran }()
	deadline := time.Now().Add(10 * time.Second)
	for _, fid := range inflight {
		for c.BlobExists(t, fid) {
			if time.Now().After(deadline) {
				t.Fatalf("chunk %s of the cut upload is still stored", fid)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	if _, err := f2.FindEntry(ctx, "/inflight"); !errors.Is(err, filer.ErrNotFound) {
		t.Fatalf("entry of the cut upload: %v", err)
	}
}

func TestAppend(t *testing.T) {
	c := filertest.Start(t, 1, 8)
	f := newFiler(t, c, newStore(t), "f1")
	ctx := context.Background()
	var want []byte
	for i, n := range []int{10, 100 << 10, 3, 70 << 10} {
		part := randomBytes(uint64(10+i), n)
		want = append(want, part...)
		e, err := f.Append(ctx, "/log", bytes.NewReader(part), filer.FileAttrs{}, filer.WriteOptions{SaveInside: true})
		if err != nil {
			t.Fatal(err)
		}
		if e.FileSize != uint64(len(want)) {
			t.Fatalf("size %d after append %d, want %d", e.FileSize, i, len(want))
		}
	}
	if got := readAll(t, f, "/log", 0, -1); !bytes.Equal(got, want) {
		t.Fatal("appended file reads differently")
	}
	if got := readAll(t, f, "/log", 5, 20); !bytes.Equal(got, want[5:25]) {
		t.Fatal("range across the first append reads differently")
	}
}

func TestFollowEvents(t *testing.T) {
	c := filertest.Start(t, 1, 8)
	f := newFiler(t, c, newStore(t), "f1")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	start := time.Now()
	if _, err := f.Mkdir(ctx, "/w", 0); err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteFile(ctx, "/w/a", bytes.NewReader([]byte("1")), filer.FileAttrs{}, filer.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteFile(ctx, "/other", bytes.NewReader([]byte("1")), filer.FileAttrs{}, filer.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	events := make(chan *pb.EntryEvent, 100)
	fctx, stop := context.WithCancel(ctx)
	followed := make(chan error, 1)
	go func() {
		followed <- f.Follow(fctx, filer.FollowOptions{Since: start, Prefix: "/w", Heartbeat: 50 * time.Millisecond}, func(ev *pb.EntryEvent) error {
			if ev.OldEntry != nil || ev.NewEntry != nil {
				events <- ev
			}
			return nil
		})
	}()
	// Live changes after the follower caught up.
	if _, err := f.WriteFile(ctx, "/w/a", bytes.NewReader([]byte("22")), filer.FileAttrs{}, filer.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Rename(ctx, "/w/a", "/w/b"); err != nil {
		t.Fatal(err)
	}
	if err := f.DeleteEntry(ctx, "/w/b", filer.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	type change struct{ old, new string }
	want := []change{{"", "/w"}, {"", "/w/a"}, {"/w/a", "/w/a"}, {"/w/a", "/w/b"}, {"/w/b", ""}}
	var lastTs int64
	for i, w := range want {
		var ev *pb.EntryEvent
		select {
		case ev = <-events:
		case <-ctx.Done():
			t.Fatalf("event %d (%v) never came", i, w)
		}
		got := change{ev.GetOldEntry().GetFullPath(), ev.GetNewEntry().GetFullPath()}
		if got != w {
			t.Fatalf("event %d: %v, want %v", i, got, w)
		}
		if ev.TsNs < lastTs {
			t.Fatalf("event %d goes back in time", i)
		}
		lastTs = ev.TsNs
	}
	stop()
	<-followed
	select {
	case ev := <-events:
		t.Fatalf("unexpected event %v", ev)
	default:
	}
}

func TestTrimEvents(t *testing.T) {
	c := filertest.Start(t, 1, 8)
	now := time.Unix(1_800_000_000, 0)
	f := filer.New(newStore(t), c.Client, filer.Options{ID: "f1", EventRetention: time.Hour, Now: func() time.Time { return now }})
	ctx := context.Background()
	for i := range 5 {
		if _, err := f.Mkdir(ctx, "/d"+strconv.Itoa(i), 0); err != nil {
			t.Fatal(err)
		}
		now = now.Add(20 * time.Minute)
	}
	// Events at 0, 20, 40, 60, 80 minutes; now is 100: the first two are over an hour old.
	n, err := f.TrimEvents(ctx)
	if err != nil || n != 2 {
		t.Fatalf("trimmed %d (%v), want 2", n, err)
	}
	var got []string
	fctx, cancel := context.WithCancel(ctx)
	f.Follow(fctx, filer.FollowOptions{}, func(ev *pb.EntryEvent) error {
		got = append(got, ev.GetNewEntry().GetFullPath())
		if len(got) == 3 {
			cancel()
		}
		return nil
	})
	if len(got) != 3 || got[0] != "/d2" || got[2] != "/d4" {
		t.Fatalf("events kept: %v", got)
	}
}

// Concurrent overwrites of a few paths leak nothing: once the queue is
// drained, every chunk ever written is either held by a final entry (and
// readable) or gone from the volume servers.
func TestConcurrentOverwritesLeakNothing(t *testing.T) {
	c := filertest.Start(t, 1, 8)
	f := newFiler(t, c, newStore(t), "f1")
	ctx := context.Background()
	var mu sync.Mutex
	var written []string
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 8 {
				p := "/hot/f" + strconv.Itoa((g+i)%4)
				e, err := f.WriteFile(ctx, p, bytes.NewReader(randomBytes(uint64(g*100+i), 100<<10)), filer.FileAttrs{}, filer.WriteOptions{})
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				written = append(written, fids(e)...)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	held := map[string]bool{}
	for i := range 4 {
		e, err := f.FindEntry(ctx, "/hot/f"+strconv.Itoa(i))
		if err != nil {
			t.Fatal(err)
		}
		for _, fid := range fids(e) {
			held[fid] = true
		}
		if got := readAll(t, f, e.FullPath, 0, -1); len(got) != 100<<10 {
			t.Fatalf("%s reads %d bytes", e.FullPath, len(got))
		}
	}
	drain(t, f)
	for _, fid := range written {
		if c.BlobExists(t, fid) != held[fid] {
			t.Fatalf("chunk %s: stored %v, held by an entry %v", fid, !held[fid], held[fid])
		}
	}
}

// A file written with a TTL reads as missing once it outlived it.
func TestTTLExpiry(t *testing.T) {
	c := filertest.Start(t, 1, 8)
	now := time.Now()
	f := filer.New(newStore(t), c.Client, filer.Options{ID: "f1", Now: func() time.Time { return now }})
	ctx := context.Background()
	if _, err := f.WriteFile(ctx, "/t/short", bytes.NewReader([]byte("x")), filer.FileAttrs{TTLSec: 60}, filer.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteFile(ctx, "/t/long", bytes.NewReader([]byte("y")), filer.FileAttrs{}, filer.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.FindEntry(ctx, "/t/short"); err != nil {
		t.Fatalf("fresh file: %v", err)
	}
	now = now.Add(61 * time.Second)
	if _, err := f.FindEntry(ctx, "/t/short"); !errors.Is(err, filer.ErrNotFound) {
		t.Fatalf("expired file: %v, want ErrNotFound", err)
	}
	var names []string
	f.List(ctx, "/t", filer.ListOptions{}, func(e *filer.Entry) bool { names = append(names, e.Name()); return true })
	if len(names) != 1 || names[0] != "long" {
		t.Fatalf("listing after expiry: %v", names)
	}
}
