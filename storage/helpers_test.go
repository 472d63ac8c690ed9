package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"weedfs.dev/weed/storage/needle"
	"weedfs.dev/weed/storage/vfs"
)

// newTestNeedle builds a needle with data derived from seed, so a test can
// rebuild what it expects.
func newTestNeedle(key uint64, cookie uint32, size int, seed uint64) *needle.Needle {
	n := &needle.Needle{ID: key, Cookie: cookie, Data: testData(size, seed)}
	n.SetName(fmt.Appendf(nil, "file-%d.bin", key))
	n.SetMime([]byte("application/octet-stream"))
	n.SetLastModified(1_700_000_000 + key)
	return n
}

func testData(size int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	b := make([]byte, size)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// mustCreate creates volume 1 of collection "c" in dir.
func mustCreate(t testing.TB, fs vfs.FS, dir string, opts VolumeOptions) *Volume {
	t.Helper()
	v, err := CreateVolume(fs, dir, "c", 1, opts)
	if err != nil {
		t.Fatalf("CreateVolume: %v", err)
	}
	return v
}

func mustOpen(t testing.TB, fs vfs.FS, dir string, opts VolumeOptions) *Volume {
	t.Helper()
	v, err := OpenVolume(fs, dir, "c", 1, opts)
	if err != nil {
		t.Fatalf("OpenVolume: %v", err)
	}
	return v
}

func mustWrite(t testing.TB, v *Volume, n *needle.Needle, opts WriteOptions) WriteResult {
	t.Helper()
	res, err := v.Write(context.Background(), n, opts)
	if err != nil {
		t.Fatalf("Write %x: %v", n.ID, err)
	}
	return res
}

// checkRead reads key and compares it with want (data, name, mime).
func checkRead(t testing.TB, v *Volume, key uint64, cookie uint32, want []byte) {
	t.Helper()
	n, err := v.Read(context.Background(), key, cookie, ReadOptions{})
	if err != nil {
		t.Fatalf("Read %x: %v", key, err)
	}
	if !bytes.Equal(n.Data, want) {
		t.Fatalf("Read %x: %d bytes differ from the %d written", key, len(n.Data), len(want))
	}
}

func wantErr(t testing.TB, err, target error, what string) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: got %v, want %v", what, err, target)
	}
}
