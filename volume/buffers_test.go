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
	b := bp.get()
	b.Write([]byte("left over"))
	bp.put(b)
	if got := bp.get(); got.Len() != 0 {
		t.Fatalf("a reused buffer holds %q", got.Bytes())
	}
	huge := bytes.NewBuffer(make([]byte, 0, maxPooledBuffer+1))
	bp.put(huge)
	for i := 0; i < 4; i++ {
		if bp.get() == huge {
			t.Fatal("a buffer over maxPooledBuffer came back from the pool")
		}
	}
}
