package volume

import (
	"bytes"
	"encoding/json"
	"testing"
)

// The hand-written upload reply must be what encoding/json writes.
func checkReplyJSON(t *testing.T, u uploadReply) {
	t.Helper()
	want, err := json.Marshal(u)
	if err != nil {
		t.Fatal(err)
	}
	if got := u.appendJSON(nil); !bytes.Equal(got, want) {
		t.Fatalf("%+v: got %s, want %s", u, got, want)
	}
}

func TestUploadReplyJSON(t *testing.T) {
	for _, u := range []uploadReply{
		{},
		{Size: 1024},
		{Name: "a.txt", Size: 3, ETag: "0a1b2c3d", Mime: "text/plain"},
		{Name: `quote " back \ <tag> & co`, ETag: "x"},
		{Name: "tab\tnew\nline\x00", Mime: "image/png"},
		{Name: "héllo ☃ \u2028", Size: -1},
		{Name: "bad utf-8 \xff\xfe"},
	} {
		checkReplyJSON(t, u)
	}
}

func FuzzUploadReplyJSON(f *testing.F) {
	f.Add("a.txt", 3, "0a1b2c3d", "text/plain")
	f.Add(`"<&>`, 0, "", "\xff")
	f.Add("", -5, "\u2029", "\t")
	f.Fuzz(func(t *testing.T, name string, size int, etag, mime string) {
		checkReplyJSON(t, uploadReply{Name: name, Size: size, ETag: etag, Mime: mime})
	})
}

func TestBufferPoolDropsHugeBuffers(t *testing.T) {
	var bp bufferPool
	b := bp.get(0)
	b.Write([]byte("left over"))
	bp.put(b)
	if got := bp.get(0); got.Len() != 0 {
		t.Fatalf("a reused buffer holds %q", got.Bytes())
	}
	huge := bytes.NewBuffer(make([]byte, 0, maxPooledBuffer+1))
	bp.put(huge)
	for i := 0; i < 4; i++ {
		if bp.get(maxPooledBuffer) == huge {
			t.Fatal("a buffer over maxPooledBuffer came back from the pool")
		}
	}
}

// Every size up to maxPooledBuffer gets a buffer that holds it from the
// smallest class that does, and a returned buffer goes to a class it can
// serve, so get's promise holds for reused buffers too.
func TestBufferClasses(t *testing.T) {
	sizes := []int{0, 1, 4095, 4096, 4097, 6144, 6145, 8192, 1 << 20, 4 << 20, 4<<20 + 1, 4<<20 + 4096, 6 << 20, 24 << 20, maxPooledBuffer}
	for i := 0; i < pooledClasses; i++ {
		sizes = append(sizes, classSize(i)-1, classSize(i), classSize(i)+1)
	}
	for _, n := range sizes {
		i := classFor(n)
		if n > maxPooledBuffer {
			if i != -1 {
				t.Errorf("size %d over the largest class got class %d", n, i)
			}
			continue
		}
		if i < 0 || i >= pooledClasses || classSize(i) < n {
			t.Fatalf("size %d: class %d does not hold it", n, i)
		}
		if i > 0 && classSize(i-1) >= n {
			t.Errorf("size %d: class %d (%d bytes) chosen, %d would do", n, i, classSize(i), classSize(i-1))
		}
		if c := classOf(n); c >= 0 && classSize(c) > n {
			t.Errorf("capacity %d filed in class %d of %d bytes", n, c, classSize(c))
		}
	}
	for i := 0; i < pooledClasses; i++ {
		if classOf(classSize(i)) != i {
			t.Errorf("a buffer of class %d size is filed in class %d", i, classOf(classSize(i)))
		}
	}
	if classOf(4095) != -1 || classOf(maxPooledBuffer+1) != -1 {
		t.Error("buffers outside the classes are kept")
	}
	var bp bufferPool
	for _, n := range []int{100, 5000, 4<<20 + 300} {
		b := bp.get(n)
		if b.Cap() < n {
			t.Fatalf("get(%d) has room for %d", n, b.Cap())
		}
		bp.put(b)
		if b := bp.get(n); b.Cap() < n || b.Len() != 0 {
			t.Fatalf("reused get(%d): cap %d, len %d", n, b.Cap(), b.Len())
		}
	}
}
