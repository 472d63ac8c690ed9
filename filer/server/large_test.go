package server_test

import (
	"crypto/md5"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"testing"

	"weedfs.dev/weed/filer"
)

// A 256 MiB file goes in and out streamed: the MD5 of what comes back is
// the MD5 of what went in, and the filer's heap stays far below the file.
func TestLargeFile(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 512 MiB over loopback")
	}
	const size = 256 << 20
	e := startFiler(t, nil, embeddedStore(t), filer.Options{ID: "f1", ChunkSize: 8 << 20})
	h := md5.New()
	io.Copy(h, newPatternReader(size))
	want := fmt.Sprintf("%x", h.Sum(nil))

	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	req, _ := http.NewRequest(http.MethodPut, e.url+"/large.bin", newPatternReader(size))
	req.ContentLength = size
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("PUT: %d", resp.StatusCode)
	}
	resp, err = httpClient.Get(e.url + "/large.bin")
	if err != nil {
		t.Fatal(err)
	}
	h = md5.New()
	n, err := io.Copy(h, resp.Body)
	resp.Body.Close()
	if err != nil || n != size || fmt.Sprintf("%x", h.Sum(nil)) != want {
		t.Fatalf("GET: %d bytes, %v, md5 %x want %s", n, err, h.Sum(nil), want)
	}
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	// The volume server runs in this process too and buffers each chunk
	// it stores or serves, so the bound is the file itself: a filer that
	// held the body whole would pass it.
	if peak := after.HeapSys; peak > before.HeapSys+size {
		t.Fatalf("heap grew from %d to %d MiB moving a 256 MiB file", before.HeapSys>>20, peak>>20)
	}
	if resp.Header.Get("ETag") != `"`+want+`"` {
		t.Fatalf("ETag %s, want the body's MD5 %s", resp.Header.Get("ETag"), want)
	}
}
