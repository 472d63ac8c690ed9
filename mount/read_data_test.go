package mount

import (
	"bytes"
	"context"
	"testing"

	"weedfs.dev/weed/filer"
)

// patternFetch serves blobs whose byte at offset i is byte(i*7 + len(fid)).
func patternFetch(_ context.Context, fid string, off int64, dst []byte) error {
	for i := range dst {
		dst[i] = byte((off+int64(i))*7 + int64(len(fid)))
	}
	return nil
}

func pattern(fid string, off, n int64) []byte {
	b := make([]byte, n)
	patternFetch(context.Background(), fid, off, b)
	return b
}

func TestReadWindowHoldsItsWindow(t *testing.T) {
	const ws = 1 << 20
	ctx := context.Background()
	fsys := &FS{ctx: ctx, opt: Options{ReadAhead: 2}}
	fsys.cache = newChunkCache(ws, 2, patternFetch, nil)
	// a: file bytes [0, 3.5 MiB); a gap; b: [4 MiB, 5 MiB).
	v := buildView([]filer.Chunk{
		{Fid: "1,a", Offset: 0, Size: 3*ws + ws/2},
		{Fid: "2,bb", Offset: 4 * ws, Size: ws},
	})

	r, err := fsys.readWindow(ctx, v, ws+100, 1000, false)
	if err != nil || r == nil {
		t.Fatalf("read inside one window: %v, %v", r, err)
	}
	got, _ := r.Bytes(nil)
	if want := pattern("1,a", ws+100, 1000); !bytes.Equal(got, want) {
		t.Fatal("bytes of the window differ from the blob's")
	}
	// While the kernel has not been sent the bytes, other reads that
	// cycle the cache neither evict nor reuse the window's buffer.
	for k := int64(0); k < 3; k++ {
		o, err := fsys.readWindow(ctx, v, (k%3)*ws+ws/2+7, 10, false)
		if err != nil {
			t.Fatal(err)
		}
		if o != nil {
			o.Done()
		}
		o, _ = fsys.readWindow(ctx, v, 4*ws+k, 10, false)
		o.Done()
	}
	if got, _ := r.Bytes(nil); !bytes.Equal(got, pattern("1,a", ws+100, 1000)) {
		t.Fatal("window bytes changed while held")
	}
	w := r.(*windowRead).w
	r.Done()
	r.Done() // go-fuse calls it once; twice must not drop a reference more
	fsys.cache.mu.Lock()
	refs := w.refs
	fsys.cache.mu.Unlock()
	if refs != 0 {
		t.Fatalf("window refs %d after Done, want 0", refs)
	}

	for _, c := range []struct {
		name string
		off  int64
		n    int
	}{
		{"across two windows", ws - 10, 20},
		{"into the gap", 3*ws + ws/2 - 10, 20},
		{"in the gap", 3*ws + ws/2 + 10, 20},
		{"past the last chunk", 6 * ws, 20},
		{"nothing", 100, 0},
	} {
		r, err := fsys.readWindow(ctx, v, c.off, c.n, false)
		if err != nil || r != nil {
			t.Errorf("%s: %v, %v; want no window (the caller copies)", c.name, r, err)
		}
	}
}
