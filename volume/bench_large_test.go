package volume

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"weedfs.dev/weed/client"
	"weedfs.dev/weed/internal/cputime"
)

// BenchmarkLarge measures what the filer and the mount ask of a volume
// server: 4 MiB chunks written with a raw PUT and read back whole or with
// a Range covering the chunk, from 4 concurrent keep-alive clients. The
// bare-* cases are the ceiling on this machine, a handler that only moves
// the bytes: each other case reports its throughput as x-bare, a ratio to
// its bare case of the same run, which moves far less with the machine's
// load than MB/s does.
//
//	go test -run XXX -bench Large -benchtime 2s ./volume
func BenchmarkLarge(b *testing.B) {
	const size = 4 << 20
	payload := make([]byte, size)
	rand.NewChaCha8([32]byte{1}).Read(payload)
	var bareWrite, bareRead float64

	b.Run("bare-write", func(b *testing.B) {
		hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			buf := make([]byte, size)
			if _, err := io.ReadFull(r.Body, buf); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusCreated)
			w.Write([]byte(`{"size":4194304,"eTag":"00000000"}`))
		}))
		defer hs.Close()
		bareWrite = runLarge(b, size, func(c *http.Client, i int) error {
			return sendLarge(c, http.MethodPut, fmt.Sprintf("%s/1,%x%08x", hs.URL, i, 0x12345678), payload, nil, http.StatusCreated)
		})
	})
	b.Run("write", func(b *testing.B) {
		s := benchServer(b)
		rate := runLarge(b, size, func(c *http.Client, i int) error {
			return sendLarge(c, http.MethodPut, fmt.Sprintf("%s/1,%x%08x", s.url, i, 0x12345678), payload, nil, http.StatusCreated)
		})
		reportRatio(b, rate, bareWrite)
	})

	b.Run("bare-read", func(b *testing.B) {
		hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", strconv.Itoa(len(payload)))
			w.WriteHeader(http.StatusOK)
			w.Write(payload)
		}))
		defer hs.Close()
		bareRead = runLarge(b, size, func(c *http.Client, i int) error {
			return sendLarge(c, http.MethodGet, fmt.Sprintf("%s/1,%x%08x", hs.URL, 1+i%largeFiles, 0x12345678), nil, nil, http.StatusOK)
		})
	})
	s := benchServer(b)
	c := benchClient()
	for i := 1; i <= largeFiles; i++ {
		if err := sendLarge(c, http.MethodPut, fmt.Sprintf("%s/1,%x%08x", s.url, i, 0x12345678), payload, nil, http.StatusCreated); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("read", func(b *testing.B) {
		rate := runLarge(b, size, func(c *http.Client, i int) error {
			return sendLarge(c, http.MethodGet, fmt.Sprintf("%s/1,%x%08x", s.url, 1+i%largeFiles, 0x12345678), nil, nil, http.StatusOK)
		})
		reportRatio(b, rate, bareRead)
	})
	b.Run("range-read", func(b *testing.B) {
		// As the filer asks for a chunk: a Range over all of it.
		hdr := map[string]string{"Range": "bytes=0-" + strconv.Itoa(size-1)}
		rate := runLarge(b, size, func(c *http.Client, i int) error {
			return sendLarge(c, http.MethodGet, fmt.Sprintf("%s/1,%x%08x", s.url, 1+i%largeFiles, 0x12345678), nil, hdr, http.StatusPartialContent)
		})
		reportRatio(b, rate, bareRead)
	})
	// As weed download reads a chunked file: the manifest, served whole
	// from chunks this server holds.
	m := client.ChunkManifest{Name: "big.bin", Size: largeFiles * size}
	for i := 1; i <= largeFiles; i++ {
		m.Chunks = append(m.Chunks, client.ChunkInfo{Fid: fmt.Sprintf("1,%x%08x", i, 0x12345678), Offset: int64(i-1) * size, Size: size})
	}
	body, err := json.Marshal(m)
	if err != nil {
		b.Fatal(err)
	}
	manifest := fmt.Sprintf("%s/1,%x%08x", s.url, 1000, 0x12345678)
	if err := sendLarge(c, http.MethodPut, manifest+"?cm=true", body, nil, http.StatusCreated); err != nil {
		b.Fatal(err)
	}
	b.Run("manifest-read", func(b *testing.B) {
		rate := runLarge(b, largeFiles*size, func(c *http.Client, i int) error {
			return sendLarge(c, http.MethodGet, manifest, nil, nil, http.StatusOK)
		})
		reportRatio(b, rate, bareRead)
	})
}

// largeFiles is how many 4 MiB blobs the read cases spread over: 64 MiB,
// which stays in the page cache.
const largeFiles = 16

// largeClients is how many requests are in flight at once.
const largeClients = 4

// runLarge runs op from largeClients goroutines until b.N calls are made
// and returns the rate in bytes per second; it reports CPU per request,
// client and server together (they share the process).
func runLarge(b *testing.B, size int, op func(c *http.Client, i int) error) float64 {
	b.Helper()
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = largeClients * 2
	t.DisableCompression = true
	c := &http.Client{Transport: t}
	b.SetBytes(int64(size))
	b.SetParallelism((largeClients + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
	var next atomic.Int64
	b.ResetTimer()
	start, cpu := time.Now(), cputime.Process()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := op(c, int(next.Add(1))); err != nil {
				b.Error(err)
				return
			}
		}
	})
	elapsed := time.Since(start)
	b.ReportMetric(float64((cputime.Process()-cpu).Microseconds())/float64(b.N), "cpu-µs/req")
	return float64(b.N) * float64(size) / elapsed.Seconds()
}

func reportRatio(b *testing.B, rate, bare float64) {
	if bare > 0 {
		b.ReportMetric(rate/bare, "x-bare")
	}
}

// sendLarge makes one request and reads the whole reply, checking its status.
func sendLarge(c *http.Client, method, url string, body []byte, hdr map[string]string, want int) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/octet-stream")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: HTTP %d", method, url, resp.StatusCode)
	}
	if method == http.MethodGet && n%(4<<20) != 0 {
		return fmt.Errorf("%s %s: %d bytes", method, url, n)
	}
	return nil
}
