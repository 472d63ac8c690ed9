package volume_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"testing"

	"weedfs.dev/weed/client"
)

// A file uploaded in chunks (several in flight) reads back whole through
// the manifest (chunks fetched ahead), and by ranges across chunk
// boundaries (no read-ahead).
func TestChunkedUploadAndManifestRead(t *testing.T) {
	m := startMaster(t)
	a, b := startVolume(t, m, "r1"), startVolume(t, m, "r2")
	c := client.New([]string{m}, client.Options{})
	assignWhenReady(t, c, client.AssignOptions{})
	data := make([]byte, 10*1000+123) // 11 chunks, the last short
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	fid, size, err := c.UploadChunked(context.Background(), bytes.NewReader(data),
		client.ChunkedUploadOptions{Name: "big.bin", ChunkSize: 1000, Parallel: 3})
	if err != nil {
		t.Fatal(err)
	}
	if size != int64(len(data)) {
		t.Fatalf("size %d, want %d", size, len(data))
	}
	got, _, err := c.Read(context.Background(), fid, client.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("read back %d bytes that differ from the %d written", len(got), len(data))
	}
	// The manifest's volume server joins chunks held by either server.
	for _, server := range []string{a.addr, b.addr} {
		if code, body := get(t, server, fid); code == http.StatusOK && !bytes.Equal(body, data) {
			t.Fatalf("GET from %s: %d bytes differ", server, len(body))
		}
	}
	for _, r := range [][2]int{{0, 1}, {999, 1001}, {1500, 7321}, {len(data) - 5, len(data) - 1}} {
		part, _, err := c.Read(context.Background(), fid, client.ReadOptions{Offset: int64(r[0]), Length: int64(r[1] - r[0] + 1)})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(part, data[r[0]:r[1]+1]) {
			t.Fatalf("range %d-%d: got %d bytes that differ", r[0], r[1], len(part))
		}
	}
}

type failingReader struct {
	r    io.Reader
	left int
}

var errInput = errors.New("input broke")

func (f *failingReader) Read(p []byte) (int, error) {
	if f.left <= 0 {
		return 0, errInput
	}
	p = p[:min(len(p), f.left)]
	n, err := f.r.Read(p)
	f.left -= n
	return n, err
}

// A failing input fails the upload with the input's error; no manifest.
func TestChunkedUploadInputFails(t *testing.T) {
	m := startMaster(t)
	startVolume(t, m, "r1")
	c := client.New([]string{m}, client.Options{})
	assignWhenReady(t, c, client.AssignOptions{})
	in := &failingReader{r: bytes.NewReader(bytes.Repeat([]byte("abc"), 5000)), left: 3500}
	fid, _, err := c.UploadChunked(context.Background(), in, client.ChunkedUploadOptions{ChunkSize: 1000, Parallel: 2})
	if !errors.Is(err, errInput) || fid != "" {
		t.Fatalf("fid %q err %v, want the input's error", fid, err)
	}
}

// Many chunks, each fetched ahead in turn, with chunk sizes that do not
// divide the reads of http.ServeContent.
func TestManifestReadAheadManyChunks(t *testing.T) {
	m := startMaster(t)
	startVolume(t, m, "r1")
	c := client.New([]string{m}, client.Options{})
	assignWhenReady(t, c, client.AssignOptions{})
	var data []byte
	for i := 0; len(data) < 300<<10; i++ {
		data = strconv.AppendInt(data, int64(i), 10)
	}
	fid, _, err := c.UploadChunked(context.Background(), bytes.NewReader(data), client.ChunkedUploadOptions{ChunkSize: 7777})
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := c.Read(context.Background(), fid, client.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("read back %d bytes that differ from the %d written", len(got), len(data))
	}
}
