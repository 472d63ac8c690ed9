package volume

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"testing"
	"unsafe"

	"weedfs.dev/weed/storage/needle"
)

func addrMod(b []byte) int64 {
	return int64(uintptr(unsafe.Pointer(unsafe.SliceData(b))) % copyAlign)
}

// A large raw body lands in the buffer at the alignment of its place in
// the volume file, whole and with its checksum; a small one, or one with
// no place given, at the start of the buffer as before.
func TestRawBodyPlacedAtDiskAlignment(t *testing.T) {
	body := make([]byte, minAlignedBody+1000)
	rand.NewChaCha8([32]byte{7}).Read(body)
	for _, diskAt := range []int64{20, 28, 64, 1<<20 + 36, 8 + 4096} {
		buf := bytes.NewBuffer(make([]byte, 0, len(body)+copyAlign))
		r := httptest.NewRequest(http.MethodPut, "/1,01aa", bytes.NewReader(body))
		u, err := parseUploadInto(r, 0, testNow, buf, diskAt)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(u.data, body) {
			t.Fatalf("diskAt %d: data differs from the body", diskAt)
		}
		if got, want := addrMod(u.data), diskAt%copyAlign; got != want {
			t.Errorf("diskAt %d: data at %d modulo %d, want %d", diskAt, got, copyAlign, want)
		}
		if u.crc == nil || *u.crc != needle.CRC(body) {
			t.Errorf("diskAt %d: checksum %v, want %08x", diskAt, u.crc, needle.CRC(body))
		}
	}
	small := []byte("a small body")
	buf := bytes.NewBuffer(make([]byte, 0, 4096))
	start := addrMod(buf.AvailableBuffer()[:1])
	u, err := parseUploadInto(httptest.NewRequest(http.MethodPut, "/1,01aa", bytes.NewReader(small)), 0, testNow, buf, 20)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(u.data, small) || addrMod(u.data) != start {
		t.Errorf("small body %q at %d modulo %d, want %q at %d", u.data, addrMod(u.data), copyAlign, small, start)
	}
}

// Through the server: large blobs written one after another (each moving
// the next one's place in the file) read back intact.
func TestLargeWritesPlacedReadBack(t *testing.T) {
	s := startServer(t, t.TempDir(), Config{})
	allocate(t, s, 3)
	for i, size := range []int{minAlignedBody, minAlignedBody + 13, 1<<20 + 5, minAlignedBody + 60} {
		data := make([]byte, size)
		rand.NewChaCha8([32]byte{byte(i)}).Read(data)
		url := fmt.Sprintf("%s/3,%x1234567%d", s.url, i+1, i)
		resp, b := do(t, http.MethodPut, url, bytes.NewReader(data), nil)
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("write %d: %d %s", i, resp.StatusCode, b)
		}
		resp, b = do(t, http.MethodGet, url, nil, nil)
		if resp.StatusCode != http.StatusOK || !bytes.Equal(b, data) {
			t.Fatalf("read %d: status %d, %d bytes, equal %v", i, resp.StatusCode, len(b), bytes.Equal(b, data))
		}
	}
}
