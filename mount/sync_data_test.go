package mount

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
)

// fakeSyncs records each call of the sync function and fails while fail
// is set.
type fakeSyncs struct {
	mu    sync.Mutex
	calls [][]uint32
	fail  bool
	// during runs inside the next call, as an upload ending meanwhile.
	during func()
}

func (f *fakeSyncs) sync(_ context.Context, vids []uint32) error {
	f.mu.Lock()
	during := f.during
	f.during = nil
	v := slices.Clone(vids)
	slices.Sort(v)
	f.calls = append(f.calls, v)
	fail := f.fail
	f.mu.Unlock()
	if during != nil {
		during()
	}
	if fail {
		return errors.New("disk on fire")
	}
	return nil
}

func (f *fakeSyncs) last(t *testing.T, want int) []uint32 {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.calls) != want {
		t.Fatalf("%d sync calls, want %d: %v", len(f.calls), want, f.calls)
	}
	if want == 0 {
		return nil
	}
	return f.calls[want-1]
}

func none() []uint32 { return nil }

func TestVolumeSyncsPerFile(t *testing.T) {
	ctx := context.Background()
	fake := &fakeSyncs{}
	s := newVolumeSyncs(ctx, fake.sync)
	a, b := new(int), new(int)
	s.uploaded(a, 1, 100)
	s.uploaded(a, 2, 100)
	s.uploaded(a, 1, 100)
	s.uploaded(b, 3, 100)

	if err := s.syncFile(ctx, a, none); err != nil {
		t.Fatal(err)
	}
	if got := fake.last(t, 1); !slices.Equal(got, []uint32{1, 2}) {
		t.Fatalf("fsync of a synced %v, want volumes 1 and 2", got)
	}
	// Nothing new for a: no call.
	if err := s.syncFile(ctx, a, none); err != nil {
		t.Fatal(err)
	}
	fake.last(t, 1)
	if err := s.syncFile(ctx, b, none); err != nil {
		t.Fatal(err)
	}
	if got := fake.last(t, 2); !slices.Equal(got, []uint32{3}) {
		t.Fatalf("fsync of b synced %v, want volume 3", got)
	}
}

func TestVolumeSyncsFailureKeepsRecords(t *testing.T) {
	ctx := context.Background()
	fake := &fakeSyncs{fail: true}
	s := newVolumeSyncs(ctx, fake.sync)
	a := new(int)
	s.uploaded(a, 7, 100)
	if err := s.syncFile(ctx, a, none); err == nil {
		t.Fatal("fsync succeeded although the volume sync failed")
	}
	fake.fail = false
	if err := s.syncFile(ctx, a, none); err != nil {
		t.Fatal(err)
	}
	if got := fake.last(t, 2); !slices.Equal(got, []uint32{7}) {
		t.Fatalf("retry synced %v, want volume 7", got)
	}
}

// An upload that ends while a sync runs may not be covered by it: the
// next fsync must sync its volume again.
func TestVolumeSyncsUploadDuringSync(t *testing.T) {
	ctx := context.Background()
	fake := &fakeSyncs{}
	s := newVolumeSyncs(ctx, fake.sync)
	a := new(int)
	s.uploaded(a, 4, 100)
	fake.during = func() { s.uploaded(a, 4, 100) }
	if err := s.syncFile(ctx, a, none); err != nil {
		t.Fatal(err)
	}
	if err := s.syncFile(ctx, a, none); err != nil {
		t.Fatal(err)
	}
	if got := fake.last(t, 2); !slices.Equal(got, []uint32{4}) {
		t.Fatalf("second fsync synced %v, want volume 4", got)
	}
}

func TestVolumeSyncsBackground(t *testing.T) {
	ctx := context.Background()
	fake := &fakeSyncs{}
	s := newVolumeSyncs(ctx, fake.sync)
	a := new(int)
	for range syncEveryBytes / (4 << 20) {
		s.uploaded(a, 9, 4<<20)
	}
	s.wait()
	if got := fake.last(t, 1); !slices.Equal(got, []uint32{9}) {
		t.Fatalf("background sync of %v, want volume 9 after %d bytes", got, syncEveryBytes)
	}
	// The background sync covered every upload so far.
	if err := s.syncFile(ctx, a, none); err != nil {
		t.Fatal(err)
	}
	fake.last(t, 1)
	s.uploaded(a, 9, 1)
	if err := s.syncFile(ctx, a, none); err != nil {
		t.Fatal(err)
	}
	fake.last(t, 2)
}

func TestVolumeSyncsSpill(t *testing.T) {
	ctx := context.Background()
	fake := &fakeSyncs{}
	s := newVolumeSyncs(ctx, fake.sync)
	keys := make([]*int, maxTrackedFiles+1)
	for i := range keys {
		keys[i] = new(int)
		s.uploaded(keys[i], 1, 1)
	}
	if len(s.byFile) > maxTrackedFiles {
		t.Fatalf("%d files tracked, bound %d", len(s.byFile), maxTrackedFiles)
	}
	// The file past the bound still gets its volume synced by its fsync.
	last := keys[len(keys)-1]
	s.uploaded(last, 2, 1)
	if err := s.syncFile(ctx, last, none); err != nil {
		t.Fatal(err)
	}
	if got := fake.last(t, 1); !slices.Contains(got, 2) {
		t.Fatalf("fsync of a spilled file synced %v, want volume 2 among them", got)
	}
	s.uploaded(nil, 5, 1)
	if err := s.syncFile(ctx, keys[0], none); err != nil {
		t.Fatal(err)
	}
	if got := fake.last(t, 2); !slices.Equal(got, []uint32{1, 5}) {
		t.Fatalf("fsync synced %v, want its own volume 1 and the spilled 5", got)
	}
}

// A file the mount has no record of may hold chunks nobody synced: its
// first fsync syncs every volume of its chunk list, later ones only what
// it uploaded since.
func TestVolumeSyncsUnknownFile(t *testing.T) {
	ctx := context.Background()
	fake := &fakeSyncs{}
	s := newVolumeSyncs(ctx, fake.sync)
	a := new(int)
	chunks := func() []uint32 { return []uint32{3, 1, 3} }
	if err := s.syncFile(ctx, a, chunks); err != nil {
		t.Fatal(err)
	}
	if got := fake.last(t, 1); !slices.Equal(got, []uint32{1, 3}) {
		t.Fatalf("first fsync of an unknown file synced %v, want its chunks' volumes 1 and 3", got)
	}
	if err := s.syncFile(ctx, a, chunks); err != nil {
		t.Fatal(err)
	}
	fake.last(t, 1)
	s.uploaded(a, 4, 1)
	if err := s.syncFile(ctx, a, chunks); err != nil {
		t.Fatal(err)
	}
	if got := fake.last(t, 2); !slices.Equal(got, []uint32{4}) {
		t.Fatalf("fsync after an upload synced %v, want volume 4 only", got)
	}
	// A failed first fsync leaves the file unknown.
	b := new(int)
	fake.fail = true
	if err := s.syncFile(ctx, b, chunks); err == nil {
		t.Fatal("fsync succeeded although the volume sync failed")
	}
	fake.fail = false
	if err := s.syncFile(ctx, b, chunks); err != nil {
		t.Fatal(err)
	}
	if got := fake.last(t, 4); !slices.Equal(got, []uint32{1, 3}) {
		t.Fatalf("retried first fsync synced %v, want volumes 1 and 3", got)
	}
}
