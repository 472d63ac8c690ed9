package volume

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"weedfs.dev/weed/security"
	"weedfs.dev/weed/storage"
	"weedfs.dev/weed/storage/needle"
	"weedfs.dev/weed/storage/superblock"
	"weedfs.dev/weed/storage/vfs"
)

// testServer is a volume server on a loopback port over a real store.
type testServer struct {
	*Server
	store *storage.Store
	http  *httptest.Server
	url   string
}

func startServer(t testing.TB, dir string, cfg Config) *testServer {
	t.Helper()
	store, err := storage.OpenStore(context.Background(), vfs.Default(), []storage.DiskLocation{{Dir: dir, MaxVolumes: 8}},
		slog.New(slog.DiscardHandler), storage.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cfg.IP, cfg.Version = "127.0.0.1", "test"
	srv := New(cfg, store)
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		hs.Close()
		srv.Stop()
		store.Close()
	})
	return &testServer{Server: srv, store: store, http: hs, url: hs.URL}
}

// rawClient does not add Accept-Encoding, so gzip handling is visible.
var rawClient = &http.Client{Transport: &http.Transport{DisableCompression: true}}

func do(t *testing.T, method, url string, body io.Reader, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := rawClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func multipartBody(t *testing.T, filename, ctype string, data []byte) (io.Reader, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	h := make(map[string][]string)
	h["Content-Disposition"] = []string{`form-data; name="file"; filename="` + filename + `"`}
	if ctype != "" {
		h["Content-Type"] = []string{ctype}
	}
	w, err := mw.CreatePart(h)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(data)
	mw.Close()
	return &buf, mw.FormDataContentType()
}

func copyFixture(t *testing.T) string {
	t.Helper()
	src := "../../shared/fixtures/seaweedfs-v3"
	if _, err := os.Stat(src); err != nil {
		src = "/work/shared/fixtures/seaweedfs-v3"
	}
	dir := t.TempDir()
	for _, f := range []string{"fx_1.dat", "fx_1.idx", "fx_1.vif", "manifest.tsv"} {
		b, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			t.Fatalf("fixture: %v", err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestServesSeaweedFSVolume points the server at a real SeaweedFS volume
// and checks every needle is served as SeaweedFS served it.
func TestServesSeaweedFSVolume(t *testing.T) {
	dir := copyFixture(t)
	manifest, err := os.Open(filepath.Join(dir, "manifest.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer manifest.Close()
	os.Remove(filepath.Join(dir, "manifest.tsv"))
	s := startServer(t, dir, Config{})
	lines := 0
	sc := bufio.NewScanner(manifest)
	for sc.Scan() {
		f := strings.Split(sc.Text(), "\t")
		if len(f) < 6 {
			continue
		}
		fid, name, state, sum, etag, note := f[0], f[1], f[2], f[3], f[4], f[5]
		lines++
		resp, body := do(t, "GET", s.url+"/"+fid, nil, nil)
		if state == "deleted" {
			if resp.StatusCode != http.StatusNotFound {
				t.Errorf("%s (deleted): status %d", fid, resp.StatusCode)
			}
			continue
		}
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s: status %d %s", fid, resp.StatusCode, body)
			continue
		}
		got := sha256.Sum256(body)
		if hex.EncodeToString(got[:]) != sum {
			t.Errorf("%s (%s): body sha256 differs (%d bytes, encoding %q)", fid, note, len(body), resp.Header.Get("Content-Encoding"))
		}
		if resp.Header.Get("ETag") != etag {
			t.Errorf("%s: ETag %s, want %s", fid, resp.Header.Get("ETag"), etag)
		}
		// An empty needle has no body, so SeaweedFS keeps no name for it.
		if name != "-" && len(body) > 0 && !strings.Contains(resp.Header.Get("Content-Disposition"), name) {
			t.Errorf("%s: Content-Disposition %q lacks %q", fid, resp.Header.Get("Content-Disposition"), name)
		}
		switch name {
		case "owned.txt":
			if resp.Header.Get("Owner") != "alice" {
				t.Errorf("owned.txt: Owner header %q", resp.Header.Get("Owner"))
			}
		case "dated.txt":
			if lm := resp.Header.Get("Last-Modified"); lm != "Sun, 13 Sep 2020 12:26:40 GMT" {
				t.Errorf("dated.txt: Last-Modified %q", lm)
			}
		case "notes.txt":
			// Stored gzip: a client that accepts gzip gets the stored bytes.
			r2, gz := do(t, "GET", s.url+"/"+fid, nil, map[string]string{"Accept-Encoding": "gzip"})
			if r2.Header.Get("Content-Encoding") != "gzip" || len(gz) >= len(body) {
				t.Errorf("notes.txt with gzip accepted: encoding %q, %d bytes (plain %d)", r2.Header.Get("Content-Encoding"), len(gz), len(body))
			}
		}
	}
	if lines != 209 {
		t.Fatalf("manifest has %d needles, want 209", lines)
	}

	// New needles append to the old volume and both read back.
	body, ctype := multipartBody(t, "new.bin", "", []byte("appended to a SeaweedFS volume"))
	resp, b := do(t, "POST", s.url+"/1,ff00000000000001", body, map[string]string{"Content-Type": ctype})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("append: %d %s", resp.StatusCode, b)
	}
	if _, b := do(t, "GET", s.url+"/1,ff00000000000001", nil, nil); string(b) != "appended to a SeaweedFS volume" {
		t.Fatalf("read new: %q", b)
	}
	if resp, _ := do(t, "GET", s.url+"/1,0132b1e415", nil, nil); resp.StatusCode != 200 {
		t.Fatalf("old needle after append: %d", resp.StatusCode)
	}
}

func allocate(t *testing.T, s *testServer, id uint32) {
	t.Helper()
	if _, err := s.store.AllocateVolume("", id, superblock.ReplicaPlacement{}, needle.TTL{}); err != nil {
		t.Fatal(err)
	}
}

func TestWriteReadDelete(t *testing.T) {
	s := startServer(t, t.TempDir(), Config{})
	allocate(t, s, 3)
	data := []byte("hello, weed world")
	body, ctype := multipartBody(t, "hello.txt", "", data)
	resp, b := do(t, "POST", s.url+"/3,01637037d6", body, map[string]string{"Content-Type": ctype, "Seaweed-Owner": "bob"})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("write: %d %s", resp.StatusCode, b)
	}
	var up map[string]any
	if err := json.Unmarshal(b, &up); err != nil {
		t.Fatal(err)
	}
	wantETag := needle.ETag(needle.CRC(data))
	if up["name"] != "hello.txt" || up["size"] != float64(len(data)) || up["eTag"] != wantETag {
		t.Fatalf("reply %s, want eTag %s", b, wantETag)
	}
	if resp.Header.Get("ETag") != `"`+wantETag+`"` {
		t.Fatalf("ETag header %q", resp.Header.Get("ETag"))
	}

	// Identical re-upload: 204, nothing appended.
	body, ctype = multipartBody(t, "hello.txt", "", data)
	if resp, _ := do(t, "POST", s.url+"/3,01637037d6", body, map[string]string{"Content-Type": ctype, "Seaweed-Owner": "bob"}); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("re-upload: %d", resp.StatusCode)
	}

	for _, u := range []string{"/3,01637037d6", "/3/01637037d6", "/3/01637037d6/other.txt", "/3,01637037d6.txt"} {
		resp, b := do(t, "GET", s.url+u, nil, nil)
		if resp.StatusCode != 200 || !bytes.Equal(b, data) {
			t.Fatalf("GET %s: %d %q", u, resp.StatusCode, b)
		}
		if resp.Header.Get("Owner") != "bob" || resp.Header.Get("Accept-Ranges") != "bytes" {
			t.Fatalf("GET %s headers %v", u, resp.Header)
		}
	}
	if resp, _ := do(t, "GET", s.url+"/3/01637037d6/other.txt", nil, nil); !strings.Contains(resp.Header.Get("Content-Disposition"), "other.txt") {
		t.Fatalf("third URL form must rename: %q", resp.Header.Get("Content-Disposition"))
	}
	if resp, b := do(t, "HEAD", s.url+"/3,01637037d6", nil, nil); resp.StatusCode != 200 || len(b) != 0 || resp.ContentLength != int64(len(data)) {
		t.Fatalf("HEAD: %d len %d body %q", resp.StatusCode, resp.ContentLength, b)
	}
	// Wrong cookie reads as absent.
	if resp, _ := do(t, "GET", s.url+"/3,01637037d7", nil, nil); resp.StatusCode != 404 {
		t.Fatalf("wrong cookie: %d", resp.StatusCode)
	}
	// Ranges and preconditions.
	if resp, b := do(t, "GET", s.url+"/3,01637037d6", nil, map[string]string{"Range": "bytes=7-10"}); resp.StatusCode != 206 || string(b) != "weed" ||
		resp.Header.Get("Content-Range") != "bytes 7-10/17" {
		t.Fatalf("range: %d %q %q", resp.StatusCode, b, resp.Header.Get("Content-Range"))
	}
	if resp, b := do(t, "GET", s.url+"/3,01637037d6", nil, map[string]string{"Range": "bytes=0-1,7-10"}); resp.StatusCode != 206 ||
		!strings.HasPrefix(resp.Header.Get("Content-Type"), "multipart/byteranges") || !bytes.Contains(b, []byte("weed")) {
		t.Fatalf("multi range: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if resp, _ := do(t, "GET", s.url+"/3,01637037d6", nil, map[string]string{"Range": "bytes=100-200"}); resp.StatusCode != http.StatusRequestedRangeNotSatisfiable {
		t.Fatalf("bad range: %d", resp.StatusCode)
	}
	if resp, _ := do(t, "GET", s.url+"/3,01637037d6", nil, map[string]string{"If-None-Match": `"` + wantETag + `"`}); resp.StatusCode != http.StatusNotModified {
		t.Fatalf("If-None-Match: %d", resp.StatusCode)
	}
	resp, _ = do(t, "GET", s.url+"/3,01637037d6", nil, nil)
	lm := resp.Header.Get("Last-Modified")
	if resp, _ := do(t, "GET", s.url+"/3,01637037d6", nil, map[string]string{"If-Modified-Since": lm}); lm == "" || resp.StatusCode != http.StatusNotModified {
		t.Fatalf("If-Modified-Since %q: %d", lm, resp.StatusCode)
	}
	if resp, _ := do(t, "GET", s.url+"/3,01637037d6?response-content-type=x/y", nil, nil); resp.Header.Get("Content-Type") != "x/y" {
		t.Fatalf("response-content-type override: %q", resp.Header.Get("Content-Type"))
	}

	// Delete with a wrong cookie is refused; with the right one, 202 and the size.
	if resp, b := do(t, "DELETE", s.url+"/3,01637037d7", nil, nil); resp.StatusCode != 400 || !strings.Contains(string(b), "Cookie") {
		t.Fatalf("delete wrong cookie: %d %s", resp.StatusCode, b)
	}
	resp, b = do(t, "DELETE", s.url+"/3,01637037d6", nil, nil)
	if resp.StatusCode != http.StatusAccepted || !strings.HasPrefix(string(b), `{"size":`) || string(b) == `{"size":0}` {
		t.Fatalf("delete: %d %s", resp.StatusCode, b)
	}
	if resp, _ := do(t, "GET", s.url+"/3,01637037d6", nil, nil); resp.StatusCode != 404 {
		t.Fatalf("read after delete: %d", resp.StatusCode)
	}
	if resp, b := do(t, "GET", s.url+"/3,01637037d6?readDeleted=true", nil, nil); resp.StatusCode != 200 || !bytes.Equal(b, data) {
		t.Fatalf("readDeleted: %d %q", resp.StatusCode, b)
	}
	if resp, b := do(t, "DELETE", s.url+"/3,01637037d6", nil, nil); resp.StatusCode != 404 || string(b) != `{"size":0}` {
		t.Fatalf("second delete: %d %s", resp.StatusCode, b)
	}
}

func TestGzipStorage(t *testing.T) {
	s := startServer(t, t.TempDir(), Config{})
	allocate(t, s, 1)
	text := []byte(strings.Repeat("compress me, I am text. ", 250))
	body, ctype := multipartBody(t, "notes.txt", "text/plain", text)
	if resp, b := do(t, "POST", s.url+"/1,01000000aa", body, map[string]string{"Content-Type": ctype}); resp.StatusCode != 201 {
		t.Fatalf("write: %d %s", resp.StatusCode, b)
	}
	n, err := s.store.Read(context.Background(), 1, 1, 0xaa, storage.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !n.IsGzipped() || len(n.Data) >= len(text)/10 {
		t.Fatalf("stored gzipped=%v, %d bytes of %d", n.IsGzipped(), len(n.Data), len(text))
	}
	resp, b := do(t, "GET", s.url+"/1,01000000aa", nil, nil)
	if resp.Header.Get("Content-Encoding") != "" || !bytes.Equal(b, text) {
		t.Fatalf("plain client got encoding %q and %d bytes", resp.Header.Get("Content-Encoding"), len(b))
	}
	resp, b = do(t, "GET", s.url+"/1,01000000aa", nil, map[string]string{"Accept-Encoding": "gzip, deflate"})
	if resp.Header.Get("Content-Encoding") != "gzip" || !bytes.Equal(b, n.Data) {
		t.Fatalf("gzip client got encoding %q and %d bytes", resp.Header.Get("Content-Encoding"), len(b))
	}
	if back, err := gunzip(b); err != nil || !bytes.Equal(back, text) {
		t.Fatalf("gzip body does not decompress to the text: %v", err)
	}
}

func TestJWT(t *testing.T) {
	key := security.Key{Secret: []byte("secret"), Expiry: 10_000_000_000}
	s := startServer(t, t.TempDir(), Config{Security: security.Config{Write: key}})
	allocate(t, s, 4)
	put := func(token string) (*http.Response, []byte) {
		hdr := map[string]string{"Content-Type": "application/octet-stream"}
		if token != "" {
			hdr["Authorization"] = "Bearer " + token
		}
		return do(t, "PUT", s.url+"/4,010c18c0eb", strings.NewReader("x"), hdr)
	}
	if resp, b := put(""); resp.StatusCode != 401 || string(b) != `{"error":"wrong jwt"}` {
		t.Fatalf("no token: %d %s", resp.StatusCode, b)
	}
	other, _ := security.Sign(key, "4,020c18c0eb", s.now())
	if resp, _ := put(other); resp.StatusCode != 401 {
		t.Fatalf("token for another fid: %d", resp.StatusCode)
	}
	good, _ := security.Sign(key, "4,010c18c0eb", s.now())
	if resp, b := put(good); resp.StatusCode != 201 {
		t.Fatalf("good token: %d %s", resp.StatusCode, b)
	}
	if resp, _ := do(t, "GET", s.url+"/4,010c18c0eb", nil, nil); resp.StatusCode != 200 {
		t.Fatalf("reads need no token without a read key: %d", resp.StatusCode)
	}
	if resp, _ := do(t, "DELETE", s.url+"/4,010c18c0eb", nil, nil); resp.StatusCode != 401 {
		t.Fatalf("delete without token: %d", resp.StatusCode)
	}
	if resp, _ := do(t, "DELETE", s.url+"/4,010c18c0eb?jwt="+good, nil, nil); resp.StatusCode != 202 {
		t.Fatalf("delete with ?jwt=: %d", resp.StatusCode)
	}
}

func TestBadInput(t *testing.T) {
	s := startServer(t, t.TempDir(), Config{FileSizeLimit: 1024})
	allocate(t, s, 5)
	body, ctype := multipartBody(t, "keep.bin", "", []byte("keep me"))
	if resp, _ := do(t, "POST", s.url+"/5,01aabbccdd", body, map[string]string{"Content-Type": ctype}); resp.StatusCode != 201 {
		t.Fatal("setup write failed")
	}
	cases := []struct {
		method, path string
		body         string
		hdr          map[string]string
		status       int
	}{
		{"POST", "/notafid", "x", nil, 400},
		{"GET", "/5,zz", "", nil, 400},
		{"POST", "/5,", "x", nil, 400},
		{"PUT", "/99,01aabbccdd", "x", nil, 404},
		{"PUT", "/5,02aabbccdd", strings.Repeat("x", 1025), nil, 400},
		{"POST", "/5,03aabbccdd", "--broken\r\nnot multipart", map[string]string{"Content-Type": "multipart/form-data; boundary=broken"}, 400},
		{"PUT", "/5,01aabbccde", "other cookie", nil, 500},
		{"PUT", "/5,04aabbccdd?ttl=3x", "x", nil, 400},
		{"PUT", "/5,04aabbccdd?ts=yesterday", "x", nil, 400},
		{"PATCH", "/5,01aabbccdd", "", nil, 405},
	}
	for _, c := range cases {
		resp, b := do(t, c.method, s.url+c.path, strings.NewReader(c.body), c.hdr)
		if resp.StatusCode != c.status {
			t.Errorf("%s %s: status %d, want %d (%s)", c.method, c.path, resp.StatusCode, c.status, b)
			continue
		}
		var e map[string]string
		if err := json.Unmarshal(b, &e); err != nil || e["error"] == "" {
			t.Errorf("%s %s: body %q is not a JSON error", c.method, c.path, b)
		}
	}
	// The stored needle is untouched and the server still answers.
	if resp, b := do(t, "GET", s.url+"/5,01aabbccdd", nil, nil); resp.StatusCode != 200 || string(b) != "keep me" {
		t.Fatalf("after bad input: %d %q", resp.StatusCode, b)
	}
}
