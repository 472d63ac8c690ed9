package volume

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"weedfs.dev/weed/client"
	"weedfs.dev/weed/storage"
)

// serveContentRange is what http.ServeContent answers to a GET of size
// bytes with this Range header: status, Content-Range and body.
func serveContentRange(v string, data []byte) (int, string, []byte) {
	req := httptest.NewRequest(http.MethodGet, "/x", nil)
	req.Header.Set("Range", v)
	rec := httptest.NewRecorder()
	http.ServeContent(rec, req, "", time.Time{}, bytes.NewReader(data))
	return rec.Code, rec.Header().Get("Content-Range"), rec.Body.Bytes()
}

// A Range the server answers itself gets ServeContent's answer, byte for
// byte; the rest goes to ServeContent, over the real server.
func TestRangeReadsMatchServeContent(t *testing.T) {
	s := startServer(t, t.TempDir(), Config{})
	allocate(t, s, 3)
	data := make([]byte, 300<<10) // over minWrittenAround: written around, read pooled
	rand.NewChaCha8([32]byte{7}).Read(data)
	if resp, b := do(t, "PUT", s.url+"/3,01637037d6", bytes.NewReader(data), map[string]string{"Content-Type": "application/octet-stream"}); resp.StatusCode != http.StatusCreated {
		t.Fatalf("write: %d %s", resp.StatusCode, b)
	}
	size := strconv.Itoa(len(data))
	for _, v := range []string{
		"bytes=0-", "bytes=0-9", "bytes=5-5", "bytes=-10", "bytes=-1", "bytes=-" + size, "bytes=-9999999",
		"bytes=10-99999999", "bytes=0-" + strconv.Itoa(len(data)-1), "bytes=" + strconv.Itoa(len(data)-1) + "-",
		"bytes=" + size + "-", "bytes=1-0", "bytes=0-1,3-4", "bytes= 1-2", "items=1-2", "bytes=-0", "bytes=+1-2",
		"bytes=", "bytes=-", "bytes=a-b", "bytes=1", "bytes=-1-2",
	} {
		resp, b := do(t, "GET", s.url+"/3,01637037d6", nil, map[string]string{"Range": v})
		code, cr, body := serveContentRange(v, data)
		if resp.StatusCode != code || resp.Header.Get("Content-Range") != cr {
			t.Errorf("Range %q: got %d %q, ServeContent %d %q", v, resp.StatusCode, resp.Header.Get("Content-Range"), code, cr)
			continue
		}
		if code == http.StatusPartialContent && strings.HasPrefix(resp.Header.Get("Content-Type"), "multipart/") {
			continue // boundaries differ
		}
		if !bytes.Equal(b, body) {
			t.Errorf("Range %q: body of %d bytes differs from ServeContent's %d", v, len(b), len(body))
		}
		if code == http.StatusPartialContent && resp.Header.Get("ETag") == "" {
			t.Errorf("Range %q: no ETag", v)
		}
	}
	// A precondition sends even a plain range through ServeContent.
	resp, _ := do(t, "GET", s.url+"/3,01637037d6", nil, map[string]string{"Range": "bytes=0-9", "If-Range": `"other"`})
	if resp.StatusCode != http.StatusOK {
		t.Errorf("If-Range with another ETag: %d, want the whole body (200)", resp.StatusCode)
	}
}

// Whenever singleRange accepts a header, ServeContent answers it with the
// same single range.
func FuzzSingleRange(f *testing.F) {
	for _, v := range []string{"bytes=0-", "bytes=3-7", "bytes=-5", "bytes=9-1", "bytes=1-2,4-5", "bytes=+1-+2", "bytes=-0", "bytes=0-99999999999999999999"} {
		f.Add(v, int64(100))
	}
	f.Fuzz(func(t *testing.T, v string, size int64) {
		if size < 0 || size > 1<<16 {
			return
		}
		start, length, ok := singleRange(v, size)
		if !ok {
			return
		}
		if start < 0 || length <= 0 || start+length > size {
			t.Fatalf("%q over %d: range %d+%d out of bounds", v, size, start, length)
		}
		code, cr, _ := serveContentRange(v, make([]byte, size))
		if code != http.StatusPartialContent || cr != contentRange(start, length, size) {
			t.Fatalf("%q over %d: we answer %q, ServeContent %d %q", v, size, contentRange(start, length, size), code, cr)
		}
	})
}

// Reads share pooled buffers: many at once, whole, ranged and through a
// manifest, each still gets its own blob's bytes.
func TestConcurrentPooledReadsKeepTheirBytes(t *testing.T) {
	s := startServer(t, t.TempDir(), Config{})
	allocate(t, s, 3)
	const blobs, size = 6, 200 << 10
	var all []byte
	fid := func(i int) string { return "3," + strconv.FormatInt(int64(0x100+i), 16) + "637037d6" }
	var m client.ChunkManifest
	for i := 0; i < blobs; i++ {
		data := make([]byte, size-i*1000) // classes differ a little
		rand.NewChaCha8([32]byte{byte(i)}).Read(data)
		if resp, b := do(t, "PUT", s.url+"/"+fid(i), bytes.NewReader(data), map[string]string{"Content-Type": "application/octet-stream"}); resp.StatusCode != http.StatusCreated {
			t.Fatalf("write: %d %s", resp.StatusCode, b)
		}
		m.Chunks = append(m.Chunks, client.ChunkInfo{Fid: fid(i), Offset: int64(len(all)), Size: int64(len(data))})
		all = append(all, data...)
	}
	m.Size = int64(len(all))
	mb, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if resp, b := do(t, "PUT", s.url+"/"+fid(99)+"?cm=true", bytes.NewReader(mb), nil); resp.StatusCode != http.StatusCreated {
		t.Fatalf("manifest: %d %s", resp.StatusCode, b)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; k < 15; k++ {
				i := (g + k) % blobs
				c := m.Chunks[i]
				want, hdr, u := all[c.Offset:c.Offset+c.Size], map[string]string{}, s.url+"/"+fid(i)
				switch k % 3 {
				case 1:
					hdr["Range"] = "bytes=1000-"
					want = want[1000:]
				case 2:
					want, u = all, s.url+"/"+fid(99)
				}
				req, _ := http.NewRequest("GET", u, nil)
				for k, v := range hdr {
					req.Header.Set(k, v)
				}
				resp, err := rawClient.Do(req)
				if err != nil {
					errs <- err
					return
				}
				got, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil || !bytes.Equal(got, want) {
					errs <- fmt.Errorf("GET %s %v: %d bytes (%v), want %d equal ones", u, hdr, len(got), err, len(want))
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// Deleting a large blob reads only its metadata, and answers the same size
// (the needle's Size field) a full read gives.
func TestDeleteLargeBlob(t *testing.T) {
	s := startServer(t, t.TempDir(), Config{})
	allocate(t, s, 3)
	data := make([]byte, 1<<20)
	rand.NewChaCha8([32]byte{9}).Read(data)
	if resp, b := do(t, "PUT", s.url+"/3,01637037d6", bytes.NewReader(data), map[string]string{"Content-Type": "application/octet-stream"}); resp.StatusCode != http.StatusCreated {
		t.Fatalf("write: %d %s", resp.StatusCode, b)
	}
	n, err := s.store.Read(t.Context(), 3, 1, 0x637037d6, storage.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if resp, b := do(t, "DELETE", s.url+"/3,01637037d7", nil, nil); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("delete with a wrong cookie: %d %s", resp.StatusCode, b)
	}
	resp, b := do(t, "DELETE", s.url+"/3,01637037d6", nil, nil)
	if resp.StatusCode != http.StatusAccepted || string(b) != fmt.Sprintf(`{"size":%d}`, n.Size) {
		t.Fatalf("delete: %d %s, want 202 with size %d", resp.StatusCode, b, n.Size)
	}
	if resp, _ := do(t, "GET", s.url+"/3,01637037d6", nil, nil); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("GET after delete: %d", resp.StatusCode)
	}
}
