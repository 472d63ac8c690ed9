package mount_test

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// Writers open around the kernel's page cache and readers through it: a
// reader holding cached pages of a file sees what a write-only open wrote
// over them and past its end, at once.
func TestDirectWritesSeenByCachedReader(t *testing.T) {
	requireFUSE(t)
	fe := newFilerEnv(t)
	dir, _ := fe.mount(t)
	name := filepath.Join(dir, "mixed.bin")
	old := bytes.Repeat([]byte("o"), 3<<20)
	if err := os.WriteFile(name, old, 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if got, err := io.ReadAll(r); err != nil || !bytes.Equal(got, old) {
		t.Fatalf("first read: %d bytes, %v", len(got), err)
	}
	w, err := os.OpenFile(name, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	patch := bytes.Repeat([]byte("n"), 1<<20)
	if _, err := w.WriteAt(patch, 1<<20); err != nil {
		t.Fatal(err)
	}
	tail := []byte("tail past the old end")
	if _, err := w.WriteAt(tail, 3<<20); err != nil {
		t.Fatal(err)
	}
	want := append(append(append(bytes.Clone(old[:1<<20]), patch...), old[2<<20:]...), tail...)
	// Before and after the writer's close.
	for _, when := range []string{"open", "closed"} {
		got := make([]byte, len(want)+10)
		n, err := r.ReadAt(got, 0)
		if err != nil && err != io.EOF {
			t.Fatal(err)
		}
		if !bytes.Equal(got[:n], want) {
			t.Fatalf("writer %s: reader saw %d bytes, differing from the %d written", when, n, len(want))
		}
		if when == "open" {
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// The kernel reads ahead as far as the mount fetches ahead (ReadAhead
// chunks), not its FUSE default of 128 KiB (only root may set it).
func TestMountRaisesReadAhead(t *testing.T) {
	requireFUSE(t)
	if os.Geteuid() != 0 {
		t.Skip("only root may set a mount's read-ahead")
	}
	fe := newFilerEnv(t)
	dir := t.TempDir()
	o := fe.options(dir)
	o.ChunkSize = 2 << 20
	o.ReadAhead = 3
	fe.mountAt(t, o)
	var st unix.Stat_t
	if err := unix.Stat(dir, &st); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(fmt.Sprintf("/sys/class/bdi/%d:%d/read_ahead_kb", unix.Major(st.Dev), unix.Minor(st.Dev)))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(b)); got != "6144" {
		t.Fatalf("read_ahead_kb %s, want 6144 (three 2 MiB chunks)", got)
	}
}
