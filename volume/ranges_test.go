package volume

import (
	"bytes"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
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
