package filer_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"weedfs.dev/weed/filer"
	"weedfs.dev/weed/filer/filertest"
	"weedfs.dev/weed/security"
)

// On a cluster whose volume servers check write tokens, files written
// through the filer (many from one reservation, sent as "<fid>_<i>") store
// and read back, and the chunks of a deleted file are deleted with a token
// the filer signs; a filer without the key cannot delete them.
func TestSignedChunkDeletion(t *testing.T) {
	sec := security.Config{Write: security.Key{Secret: []byte("write-secret"), Expiry: 10 * time.Second}}
	c := filertest.StartSecure(t, 1, 8, sec)
	ctx := context.Background()
	newF := func(id string, sec security.Config) *filer.Filer {
		f := filer.New(filertest.NewMemStore(), c.Client, filer.Options{ID: id, ChunkSize: 64 << 10,
			DeleteRetry: 50 * time.Millisecond, Security: sec, Logger: filertest.Logger()})
		t.Cleanup(func() { f.Close() })
		return f
	}
	for _, tc := range []struct {
		name    string
		sec     security.Config
		deletes bool
	}{{"with the key", sec, true}, {"without the key", security.Config{}, false}} {
		t.Run(tc.name, func(t *testing.T) {
			f := newF(tc.name, tc.sec)
			var fids []string
			for i := range 3 {
				body := randomBytes(uint64(70+i), 100<<10)
				p := "/s/f" + string(rune('a'+i))
				e, err := f.WriteFile(ctx, p, bytes.NewReader(body), filer.FileAttrs{}, filer.WriteOptions{})
				if err != nil {
					t.Fatal(err)
				}
				if got := readAll(t, f, p, 0, -1); !bytes.Equal(got, body) {
					t.Fatalf("%s reads back %d bytes", p, len(got))
				}
				for _, ch := range e.Chunks {
					fids = append(fids, ch.Fid)
				}
				if err := f.DeleteEntry(ctx, p, filer.DeleteOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			left, err := f.DrainDeletions(ctx)
			if tc.deletes && (err != nil || left) {
				t.Fatalf("signed deletions: left %v, %v", left, err)
			}
			if !tc.deletes && err == nil {
				t.Fatal("unsigned deletions succeeded on a cluster that checks tokens")
			}
			for _, fid := range fids {
				if c.BlobExists(t, fid) == tc.deletes {
					t.Fatalf("chunk %s stored: %v after the deletion round", fid, !tc.deletes)
				}
			}
		})
	}
}

// On a cluster that checks read tokens, the filer signs each chunk read
// with the read key; without it the read is refused.
func TestSignedChunkReads(t *testing.T) {
	sec := security.Config{Read: security.Key{Secret: []byte("read-secret"), Expiry: 10 * time.Second}}
	c := filertest.StartSecure(t, 1, 8, sec)
	ctx := context.Background()
	store := filertest.NewMemStore()
	f := filer.New(store, c.Client, filer.Options{ID: "r", ChunkSize: 64 << 10, Security: sec, Logger: filertest.Logger()})
	t.Cleanup(func() { f.Close() })
	body := randomBytes(90, 150<<10)
	e, err := f.WriteFile(ctx, "/r", bytes.NewReader(body), filer.FileAttrs{}, filer.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, f, "/r", 0, -1); !bytes.Equal(got, body) {
		t.Fatalf("signed read gave %d bytes", len(got))
	}
	unsigned := filer.New(store, c.Client, filer.Options{ID: "u", Logger: filertest.Logger()})
	t.Cleanup(func() { unsigned.Close() })
	var buf bytes.Buffer
	if err := unsigned.WriteRange(ctx, &buf, e, 0, -1); err == nil {
		t.Fatal("an unsigned chunk read succeeded on a cluster that checks read tokens")
	}
}
