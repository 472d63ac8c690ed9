package mount_test

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// A file written through the mount with random overwrites, appends and
// holes (write buffers whose running CRC is kept, and ones where it is
// lost) reads back as written, open and after close.
func TestRandomOverwritesReadBack(t *testing.T) {
	requireFUSE(t)
	fe := newFilerEnv(t)
	mnt := t.TempDir()
	o := fe.options(mnt)
	o.ChunkSize = 1 << 20
	fe.mountAt(t, o)
	name := filepath.Join(mnt, "patched.bin")
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rng := rand.New(rand.NewPCG(21, 3))
	var want []byte
	for i := 0; i < 200; i++ {
		end := int64(len(want))
		n := 1 + rng.IntN(300<<10)
		var off int64
		switch r := rng.IntN(10); {
		case r < 3 && end > 0: // overwrite, maybe running past the end
			off = rng.Int64N(end)
		case r == 3: // a hole
			off = end + rng.Int64N(2<<20)
		default: // append
			off = end
		}
		b := make([]byte, n)
		for j := range b {
			b[j] = byte(rng.Uint32())
		}
		if _, err := f.WriteAt(b, off); err != nil {
			t.Fatal(err)
		}
		if e := int(off) + n; e > len(want) {
			want = append(want, make([]byte, e-len(want))...)
		}
		copy(want[off:], b)
	}
	check := func(when string) {
		t.Helper()
		got, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			i := 0
			for i < min(len(got), len(want)) && got[i] == want[i] {
				i++
			}
			t.Fatalf("%s: read %d bytes, wrote %d; first difference at %d", when, len(got), len(want), i)
		}
	}
	check("open")
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	check("closed")
}
