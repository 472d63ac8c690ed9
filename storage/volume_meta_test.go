package storage

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"weedfs.dev/weed/storage/needle"
	"weedfs.dev/weed/storage/vfs"
)

func TestReadMeta(t *testing.T) {
	dir := t.TempDir()
	// The needles' LastModified is 1.7e9+key: a clock a day later keeps
	// their 7-day TTL running.
	now := func() time.Time { return time.Unix(1_700_086_400, 0) }
	v := mustCreate(t, vfs.Default(), dir, VolumeOptions{Now: now})
	ctx := context.Background()
	ttl, _ := needle.ParseTTL("7d")
	sizes := []int{0, 1, 1000, 65000, 100_000, 300_000}
	for i, size := range sizes {
		n := newTestNeedle(uint64(i+1), 5, size, uint64(i))
		n.SetPairs([]byte(`{"Owner":"alice"}`))
		n.SetTTL(ttl)
		if i%2 == 0 {
			n.SetGzipped()
		}
		mustWrite(t, v, n, WriteOptions{})
	}
	for i, size := range sizes {
		key := uint64(i + 1)
		full, err := v.Read(ctx, key, 5, ReadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		meta, dataSize, err := v.ReadMeta(ctx, key, 5, ReadOptions{})
		if err != nil {
			t.Fatalf("ReadMeta %d: %v", key, err)
		}
		if dataSize != uint32(size) || meta.Data != nil {
			t.Fatalf("needle %d: data size %d (data %v), want %d", key, dataSize, meta.Data != nil, size)
		}
		full.Data = nil
		if !sameMeta(meta, full) {
			t.Fatalf("needle %d: meta\n%+v\nwant\n%+v", key, meta, full)
		}
	}
	_, _, err := v.ReadMeta(ctx, 5, 6, ReadOptions{})
	wantErr(t, err, ErrCookieMismatch, "ReadMeta with another cookie")
	if _, err := v.Delete(ctx, 5, 5, DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	_, _, err = v.ReadMeta(ctx, 5, 5, ReadOptions{})
	wantErr(t, err, ErrDeleted, "ReadMeta of a deleted needle")
	if _, n, err := v.ReadMeta(ctx, 5, 5, ReadOptions{ReadDeleted: true}); err != nil || n != 100_000 {
		t.Fatalf("ReadMeta readDeleted: %d %v", n, err)
	}
	v.Close()

	// A corrupt tail of a large record is caught; the data is not read.
	datName := filepath.Join(dir, "c_1.dat")
	b, _ := os.ReadFile(datName)
	i := bytes.Index(b, []byte("file-6.bin"))
	b[i-1] = 200 // the name length now runs past the body
	os.WriteFile(datName, b, 0o644)
	v = mustOpen(t, vfs.Default(), dir, VolumeOptions{Now: now})
	defer v.Close()
	_, _, err = v.ReadMeta(ctx, 6, 5, ReadOptions{})
	wantErr(t, err, ErrCorrupt, "ReadMeta of a record with a bad name length")
	wantErr(t, err, needle.ErrCorrupt, "ReadMeta of a record with a bad name length")
}

func sameMeta(a, b *needle.Needle) bool {
	return a.Cookie == b.Cookie && a.ID == b.ID && a.Size == b.Size && a.Flags == b.Flags &&
		bytes.Equal(a.Name, b.Name) && bytes.Equal(a.Mime, b.Mime) && a.LastModified == b.LastModified &&
		a.TTL == b.TTL && bytes.Equal(a.Pairs, b.Pairs) && a.Checksum == b.Checksum && a.AppendAtNs == b.AppendAtNs
}
