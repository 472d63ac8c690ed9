package vfs

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// WriteVectorAt leaves the file as one WriteAt of the joined buffers would,
// on the real file system (pwritev) and on CrashFS (one write per buffer).
func TestWriteVectorAt(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	bufs := [][]byte{[]byte("head"), nil, big, []byte("tail"), {}}
	want := append(append([]byte("0000000000head"), big...), "tail"...)
	for name, fsys := range map[string]FS{"os": Default(), "crash": NewCrashFS()} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "f")
			if name == "crash" {
				path = "/f"
			}
			f, err := fsys.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if _, err := f.WriteAt(bytes.Repeat([]byte("0"), 20), 0); err != nil {
				t.Fatal(err)
			}
			n, err := WriteVectorAt(f, bufs, 10)
			if err != nil || n != len(want)-10 {
				t.Fatalf("wrote %d, %v; want %d", n, err, len(want)-10)
			}
			got := make([]byte, len(want)+1)
			m, _ := f.ReadAt(got, 0)
			if !bytes.Equal(got[:m], want) {
				t.Fatalf("file holds %d bytes, want %d; equal prefix: %v", m, len(want), bytes.HasPrefix(got[:m], want[:min(m, len(want))]))
			}
			if n, err := WriteVectorAt(f, [][]byte{{}, nil}, 5); n != 0 || err != nil {
				t.Fatalf("empty write: %d, %v", n, err)
			}
		})
	}
}
