package filer_test

import (
	"bytes"
	"context"
	"reflect"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"

	"weedfs.dev/weed/client"
	"weedfs.dev/weed/filer"
	"weedfs.dev/weed/filer/filertest"
)

func TestManifestRoundTrip(t *testing.T) {
	chunks := []filer.Chunk{
		{Fid: "3,01637037d6", Offset: 0, Size: 10, ModifiedTsNs: 5, ETag: "e1"},
		{Fid: "4,02637037d6", Offset: 10, Size: 1 << 40, IsManifest: true},
		{},
	}
	b, err := filer.EncodeManifest(chunks)
	if err != nil {
		t.Fatal(err)
	}
	got, err := filer.DecodeManifest(b)
	if err != nil || !reflect.DeepEqual(got, chunks) {
		t.Fatalf("round trip: %+v, %v", got, err)
	}
	// Unknown fields are skipped; a cut blob is ErrCorrupt.
	extra := protowire.AppendTag(append([]byte(nil), b...), 9, protowire.VarintType)
	extra = protowire.AppendVarint(extra, 7)
	if got, err := filer.DecodeManifest(extra); err != nil || len(got) != 3 {
		t.Fatalf("with an unknown field: %d chunks, %v", len(got), err)
	}
	if _, err := filer.DecodeManifest(b[:len(b)-1]); err == nil {
		t.Fatal("a cut manifest decoded")
	}
}

func FuzzDecodeManifest(f *testing.F) {
	b, _ := filer.EncodeManifest([]filer.Chunk{{Fid: "3,01637037d6", Size: 10, ETag: "x"}, {Fid: "1,01", IsManifest: true}})
	f.Add(b)
	f.Add([]byte{})
	f.Add([]byte{0x0a, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		chunks, err := filer.DecodeManifest(b)
		if err != nil {
			return
		}
		again, err := filer.EncodeManifest(chunks)
		if err != nil {
			t.Fatal(err)
		}
		back, err := filer.DecodeManifest(again)
		if err != nil || len(back) != len(chunks) {
			t.Fatalf("re-encoded manifest: %d chunks, %v; want %d", len(back), err, len(chunks))
		}
	})
}

// A file of many chunks keeps each run of ManifestBatch of them in a
// manifest chunk; it reads back whole and by ranges, appends regroup, and
// deleting it deletes data and manifest blobs alike.
func TestManifestChunks(t *testing.T) {
	c := filertest.Start(t, 1, 8)
	f := filer.New(newStore(t), c.Client, filer.Options{ID: "m", ChunkSize: 1 << 10, ManifestBatch: 4,
		DeleteRetry: 50 * time.Millisecond, Logger: filertest.Logger()})
	t.Cleanup(func() { f.Close() })
	ctx := context.Background()
	body := randomBytes(99, 11<<10-100) // 11 chunks: two manifests of 4, 3 data chunks
	e, err := f.WriteFile(ctx, "/m", bytes.NewReader(body), filer.FileAttrs{}, filer.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	manifests := 0
	for _, ch := range e.Chunks {
		if ch.IsManifest {
			manifests++
		}
	}
	if len(e.Chunks) != 5 || manifests != 2 || !e.Chunks[0].IsManifest || e.Chunks[0].Offset != 0 || e.Chunks[0].Size != 4<<10 ||
		e.Chunks[1].Offset != 4<<10 || e.Chunks[4].IsManifest {
		t.Fatalf("chunks %+v: want 2 manifests of 4 KiB, then 3 data chunks", e.Chunks)
	}
	if got := readAll(t, f, "/m", 0, -1); !bytes.Equal(got, body) {
		t.Fatalf("read back %d bytes, want %d", len(got), len(body))
	}
	if got := readAll(t, f, "/m", 3<<10+7, 3<<10); !bytes.Equal(got, body[3<<10+7:6<<10+7]) {
		t.Fatal("a range across manifests reads wrong")
	}
	more := randomBytes(100, 2<<10)
	e2, err := f.Append(ctx, "/m", bytes.NewReader(more), filer.FileAttrs{}, filer.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(e2.Chunks) != 4 || !e2.Chunks[2].IsManifest {
		t.Fatalf("after append: chunks %+v, want the 3+2 data chunks regrouped (3 manifests, 1 chunk)", e2.Chunks)
	}
	// The regrouped chunks are still held: the append queued none of
	// them, so after the deletion queue drains the file reads whole.
	drain(t, f)
	want := append(append([]byte(nil), body...), more...)
	if got := readAll(t, f, "/m", 0, -1); !bytes.Equal(got, want) {
		t.Fatalf("after append: %d bytes, want %d", len(got), len(want))
	}
	var fids []string
	for _, ch := range e2.Chunks {
		fids = append(fids, ch.Fid)
		if ch.IsManifest {
			raw := readBlob(t, c, ch.Fid)
			inner, err := filer.DecodeManifest(raw)
			if err != nil {
				t.Fatal(err)
			}
			for _, in := range inner {
				fids = append(fids, in.Fid)
			}
		}
	}
	if len(fids) != 3+12+1 {
		t.Fatalf("%d fids in all, want 3 manifests, 12 data chunks in them and 1 more", len(fids))
	}
	if err := f.DeleteEntry(ctx, "/m", filer.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	drain(t, f)
	for _, fid := range fids {
		if c.BlobExists(t, fid) {
			t.Fatalf("chunk %s is still stored after the file was deleted", fid)
		}
	}
}

func readBlob(t *testing.T, c *filertest.Cluster, fid string) []byte {
	t.Helper()
	b, _, err := c.Client.Read(context.Background(), fid, client.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return b
}
