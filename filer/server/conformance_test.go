package server_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"weedfs.dev/weed/client"
	"weedfs.dev/weed/filer"
	"weedfs.dev/weed/filer/filertest"
	"weedfs.dev/weed/filer/server"
)

// runConformance runs every HTTP behaviour against stores made by
// newStore. The cluster is shared by the subtests; each gets its own
// store and filer.
func runConformance(t *testing.T, newStore newStoreFunc) {
	cases := []struct {
		name string
		fn   func(t *testing.T, e *env)
	}{
		{"PutGet", testPutGet},
		{"Multipart", testMultipart},
		{"Mkdir", testMkdir},
		{"Ranges", testRanges},
		{"Preconditions", testPreconditions},
		{"ListJSON", testListJSON},
		{"ListHTML", testListHTML},
		{"Delete", testDelete},
		{"Rename", testRename},
		{"Metadata", testMetadata},
		{"Append", testAppend},
		{"ExtendedHeaders", testExtended},
		{"QueryOptions", testQueryOptions},
		{"BadPaths", testBadPaths},
		{"Conflicts", testConflicts},
		{"ContentMD5", testContentMD5},
		{"CutOffUpload", testCutOffUpload},
		{"Events", testEvents},
	}
	c := filertest.Start(t, 1, 16)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := startFiler(t, c, newStore(t), filer.Options{ID: "f1"})
			tc.fn(t, e)
		})
	}
}

func testPutGet(t *testing.T, e *env) {
	body := randomBytes(1, 700<<10) // three chunks of 256 KiB
	resp, b := e.put("/docs/big.bin", body)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("PUT: %d %s", resp.StatusCode, b)
	}
	var reply struct {
		Name string `json:"name"`
		Size int64  `json:"size"`
	}
	json.Unmarshal(b, &reply)
	sum := md5.Sum(body)
	if reply.Name != "big.bin" || reply.Size != int64(len(body)) || resp.Header.Get("Content-MD5") != base64.StdEncoding.EncodeToString(sum[:]) {
		t.Fatalf("reply %s, Content-MD5 %q", b, resp.Header.Get("Content-MD5"))
	}
	resp, got := e.do(http.MethodGet, "/docs/big.bin", nil)
	if resp.StatusCode != http.StatusOK || !bytes.Equal(got, body) {
		t.Fatalf("GET: %d, %d bytes (equal %v)", resp.StatusCode, len(got), bytes.Equal(got, body))
	}
	h := resp.Header
	if h.Get("ETag") != `"`+hex.EncodeToString(sum[:])+`"` || h.Get("Accept-Ranges") != "bytes" ||
		h.Get("Content-Length") != strconv.Itoa(len(body)) || h.Get("Last-Modified") == "" ||
		h.Get("Content-Type") != "application/octet-stream" || !strings.Contains(h.Get("Content-Disposition"), `filename="big.bin"`) {
		t.Fatalf("GET headers: %v", h)
	}
	resp, got = e.do(http.MethodHead, "/docs/big.bin", nil)
	if resp.StatusCode != http.StatusOK || len(got) != 0 || resp.Header.Get("Content-Length") != strconv.Itoa(len(body)) {
		t.Fatalf("HEAD: %d, %d bytes, %v", resp.StatusCode, len(got), resp.Header)
	}
	// The content type a client sends is kept; one from the name otherwise.
	e.mustPut("/docs/page", []byte("<p>"), "Content-Type", "text/html")
	e.mustPut("/docs/note.txt", []byte("hi"))
	for p, want := range map[string]string{"/docs/page": "text/html", "/docs/note.txt": "text/plain; charset=utf-8"} {
		if resp, _ := e.do(http.MethodGet, p, nil); resp.Header.Get("Content-Type") != want {
			t.Errorf("%s: Content-Type %q, want %q", p, resp.Header.Get("Content-Type"), want)
		}
	}
	// Missing files: 404 with {"error"}; HEAD: 404 without a body.
	resp, b = e.do(http.MethodGet, "/docs/nope", nil)
	wantError(t, "GET missing", resp, b, http.StatusNotFound, "not found")
	if resp, _ := e.do(http.MethodHead, "/docs/nope", nil); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("HEAD missing: %d", resp.StatusCode)
	}
	// An empty file.
	e.mustPut("/docs/empty", nil)
	if resp, got := e.do(http.MethodGet, "/docs/empty", nil); resp.StatusCode != http.StatusOK || len(got) != 0 {
		t.Fatalf("empty file: %d %q", resp.StatusCode, got)
	}
}

func multipartBody(t *testing.T, filename, ctype string, data []byte) (*bytes.Buffer, string) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	h := make(map[string][]string)
	h["Content-Disposition"] = []string{fmt.Sprintf(`form-data; name="file"; filename="%s"`, filename)}
	if ctype != "" {
		h["Content-Type"] = []string{ctype}
	}
	pw, err := mw.CreatePart(h)
	if err != nil {
		t.Fatal(err)
	}
	pw.Write(data)
	mw.Close()
	return &buf, mw.FormDataContentType()
}

func testMultipart(t *testing.T, e *env) {
	body, ct := multipartBody(t, "hello.txt", "text/plain", []byte("hello, filer!"))
	resp, b := e.do(http.MethodPost, "/up/", body, "Content-Type", ct)
	if resp.StatusCode != http.StatusCreated || !strings.Contains(string(b), `"name":"hello.txt"`) || !strings.Contains(string(b), `"size":13`) {
		t.Fatalf("POST multipart to a folder: %d %s", resp.StatusCode, b)
	}
	if resp, got := e.do(http.MethodGet, "/up/hello.txt", nil); string(got) != "hello, filer!" || resp.Header.Get("Content-Type") != "text/plain" {
		t.Fatalf("GET: %q %q", got, resp.Header.Get("Content-Type"))
	}
	// To a named path: the URL names the entry, the reply echoes the part's filename.
	body, ct = multipartBody(t, "hello.txt", "", []byte("renamed"))
	resp, b = e.do(http.MethodPost, "/up/renamed.txt", body, "Content-Type", ct)
	if resp.StatusCode != http.StatusCreated || !strings.Contains(string(b), `"name":"hello.txt"`) {
		t.Fatalf("POST multipart to a path: %d %s", resp.StatusCode, b)
	}
	if _, got := e.do(http.MethodGet, "/up/renamed.txt", nil); string(got) != "renamed" {
		t.Fatalf("GET renamed: %q", got)
	}
	// A multipart filename cannot climb out of the folder: only its last
	// element names the entry.
	body, ct = multipartBody(t, "../escape", "", []byte("x"))
	if resp, b = e.do(http.MethodPost, "/up/", body, "Content-Type", ct); resp.StatusCode != http.StatusCreated {
		t.Fatalf("filename with ..: %d %s", resp.StatusCode, b)
	}
	if resp, _ := e.do(http.MethodHead, "/escape", nil); resp.StatusCode != http.StatusNotFound {
		t.Fatal("a multipart filename escaped its folder")
	}
	if resp, _ := e.do(http.MethodHead, "/up/escape", nil); resp.StatusCode != http.StatusOK {
		t.Fatal("the multipart file is not in its folder")
	}
	resp, b = e.do(http.MethodPost, "/up/x", strings.NewReader("garbage"), "Content-Type", "multipart/form-data; boundary=zz")
	wantError(t, "broken multipart", resp, b, http.StatusBadRequest, "multipart")
}

func testMkdir(t *testing.T, e *env) {
	resp, b := e.do(http.MethodPost, "/a/newdir/", nil)
	if resp.StatusCode != http.StatusCreated || string(bytes.TrimSpace(b)) != `{"name":"newdir"}` {
		t.Fatalf("mkdir: %d %s", resp.StatusCode, b)
	}
	if m := e.metadata("/a/newdir"); !m.IsDirectory() {
		t.Fatalf("mkdir made %+v", m)
	}
	// Again: fine.
	if resp, b := e.do(http.MethodPost, "/a/newdir/", nil); resp.StatusCode != http.StatusCreated {
		t.Fatalf("mkdir again: %d %s", resp.StatusCode, b)
	}
}

func testRanges(t *testing.T, e *env) {
	body := randomBytes(2, 600<<10)
	e.mustPut("/r.bin", body)
	size := len(body)
	for _, tc := range []struct {
		rng        string
		start, end int // inclusive
	}{
		{"bytes=0-0", 0, 0},
		{"bytes=100-299999", 100, 299999},
		{"bytes=262140-262150", 262140, 262150}, // across a chunk boundary
		{"bytes=500000-", 500000, size - 1},
		{"bytes=-1000", size - 1000, size - 1},
		{"bytes=600000-99999999", 600000, size - 1},
	} {
		resp, got := e.do(http.MethodGet, "/r.bin", nil, "Range", tc.rng)
		want := body[tc.start : tc.end+1]
		cr := fmt.Sprintf("bytes %d-%d/%d", tc.start, tc.end, size)
		if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(got, want) || resp.Header.Get("Content-Range") != cr {
			t.Fatalf("%s: %d, %d bytes, Content-Range %q (want %q)", tc.rng, resp.StatusCode, len(got), resp.Header.Get("Content-Range"), cr)
		}
	}
	resp, b := e.do(http.MethodGet, "/r.bin", nil, "Range", fmt.Sprintf("bytes=%d-", size))
	wantError(t, "range past the end", resp, b, http.StatusRequestedRangeNotSatisfiable, "range")
	// Several ranges: served whole.
	if resp, got := e.do(http.MethodGet, "/r.bin", nil, "Range", "bytes=0-1,5-6"); resp.StatusCode != http.StatusOK || len(got) != size {
		t.Fatalf("multi-range: %d %d", resp.StatusCode, len(got))
	}
}

func testPreconditions(t *testing.T, e *env) {
	e.mustPut("/p.txt", []byte("precondition"))
	resp, _ := e.do(http.MethodGet, "/p.txt", nil)
	tag, lm := resp.Header.Get("ETag"), resp.Header.Get("Last-Modified")
	lmt, _ := http.ParseTime(lm)
	for _, tc := range []struct {
		hdr    []string
		status int
	}{
		{[]string{"If-None-Match", tag}, http.StatusNotModified},
		{[]string{"If-None-Match", `"other"`}, http.StatusOK},
		{[]string{"If-Match", tag}, http.StatusOK},
		{[]string{"If-Match", `"other"`}, http.StatusPreconditionFailed},
		{[]string{"If-Modified-Since", lm}, http.StatusNotModified},
		{[]string{"If-Modified-Since", lmt.Add(-time.Hour).Format(http.TimeFormat)}, http.StatusOK},
		{[]string{"If-Unmodified-Since", lmt.Add(-time.Hour).Format(http.TimeFormat)}, http.StatusPreconditionFailed},
		{[]string{"Range", "bytes=0-3", "If-Range", tag}, http.StatusPartialContent},
		{[]string{"Range", "bytes=0-3", "If-Range", `"other"`}, http.StatusOK},
	} {
		if resp, _ := e.do(http.MethodGet, "/p.txt", nil, tc.hdr...); resp.StatusCode != tc.status {
			t.Errorf("%v: %d, want %d", tc.hdr, resp.StatusCode, tc.status)
		}
	}
}

type listReply struct {
	Path                  string
	Entries               []json.RawMessage
	Limit                 int
	LastFileName          string
	ShouldDisplayLoadMore bool
	EmptyFolder           bool
}

func (e *env) list(path string) listReply {
	e.t.Helper()
	resp, b := e.do(http.MethodGet, path, nil, "Accept", "application/json")
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("list %s: %d %s", path, resp.StatusCode, b)
	}
	var l listReply
	if err := json.Unmarshal(b, &l); err != nil {
		e.t.Fatalf("list %s: %v in %s", path, err, b)
	}
	return l
}

func entryPath(t *testing.T, raw json.RawMessage) string {
	var en struct{ FullPath string }
	if err := json.Unmarshal(raw, &en); err != nil {
		t.Fatal(err)
	}
	return en.FullPath
}

func testListJSON(t *testing.T, e *env) {
	var want []string
	for i := range 25 {
		name := fmt.Sprintf("f%02d", i)
		want = append(want, "/l/"+name)
		e.mustPut("/l/"+name, []byte(name))
	}
	e.do(http.MethodPost, "/l/zsub/", nil)
	want = append(want, "/l/zsub")
	var got []string
	last := ""
	pages := 0
	for {
		l := e.list("/l/?limit=10&lastFileName=" + last)
		pages++
		if l.Path != "/l" || l.Limit != 10 || l.EmptyFolder {
			t.Fatalf("page %d: %+v", pages, l)
		}
		for _, raw := range l.Entries {
			got = append(got, entryPath(t, raw))
		}
		if !l.ShouldDisplayLoadMore {
			break
		}
		if len(l.Entries) != 10 {
			t.Fatalf("page %d has %d entries and says more", pages, len(l.Entries))
		}
		last = l.LastFileName
		if pages > 5 {
			t.Fatal("too many pages")
		}
	}
	if strings.Join(got, ",") != strings.Join(want, ",") || pages != 3 {
		t.Fatalf("listed %d pages: %v", pages, got)
	}
	// A pattern filters names.
	l := e.list("/l/?namePattern=f1*")
	if len(l.Entries) != 10 || entryPath(t, l.Entries[0]) != "/l/f10" {
		t.Fatalf("namePattern: %d entries", len(l.Entries))
	}
	e.do(http.MethodPost, "/empty/", nil)
	if l := e.list("/empty/"); !l.EmptyFolder || len(l.Entries) != 0 || l.ShouldDisplayLoadMore {
		t.Fatalf("empty folder: %+v", l)
	}
	// The JSON of an entry follows SeaweedFS: Mode with the dir bit, chunks with fid.
	l = e.list("/l/?limit=1")
	var en map[string]any
	json.Unmarshal(l.Entries[0], &en)
	if en["Mode"].(float64) != 0o660 || en["chunks"] == nil || en["FileSize"].(float64) != 3 {
		t.Fatalf("entry JSON %s", l.Entries[0])
	}
	resp, b := e.do(http.MethodGet, "/l/?limit=x", nil, "Accept", "application/json")
	wantError(t, "bad limit", resp, b, http.StatusBadRequest, "limit")
	resp, b = e.do(http.MethodGet, "/nofolder/", nil, "Accept", "application/json")
	wantError(t, "missing folder", resp, b, http.StatusNotFound, "not found")
}

func testListHTML(t *testing.T, e *env) {
	e.mustPut("/h/a <b>.txt", []byte("x"))
	resp, b := e.do(http.MethodGet, "/h/", nil)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("HTML listing: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if !strings.Contains(string(b), "a &lt;b&gt;.txt") || strings.Contains(string(b), "a <b>") {
		t.Fatalf("HTML listing does not escape names: %s", b)
	}
}

func testDelete(t *testing.T, e *env) {
	e.mustPut("/docs/a.txt", []byte("a"))
	e.mustPut("/docs/sub/b.txt", []byte("b"))
	e.mustPut("/docsx/keep", []byte("k"))
	fid := e.metadata("/docs/a.txt").Chunks[0].Fid
	resp, b := e.do(http.MethodDelete, "/docs", nil)
	wantError(t, "non-empty folder", resp, b, http.StatusInternalServerError, "not empty")
	if resp, _ := e.do(http.MethodGet, "/docs/a.txt", nil); resp.StatusCode != http.StatusOK {
		t.Fatal("refused delete removed a file")
	}
	if resp, b := e.do(http.MethodDelete, "/docs?recursive=true", nil); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("recursive delete: %d %s", resp.StatusCode, b)
	}
	for _, p := range []string{"/docs", "/docs/a.txt", "/docs/sub/b.txt"} {
		if resp, _ := e.do(http.MethodHead, p, nil); resp.StatusCode != http.StatusNotFound {
			t.Fatalf("%s after delete: %d", p, resp.StatusCode)
		}
	}
	if resp, _ := e.do(http.MethodGet, "/docsx/keep", nil); resp.StatusCode != http.StatusOK {
		t.Fatal("a sibling sharing the prefix was deleted")
	}
	if resp, _ := e.do(http.MethodDelete, "/docs", nil); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("delete of a missing path: %d", resp.StatusCode)
	}
	// The chunks go from the volume servers in the background.
	deadline := time.Now().Add(10 * time.Second)
	for e.cluster.BlobExists(t, fid) {
		if time.Now().After(deadline) {
			t.Fatalf("chunk %s of a deleted file is still stored", fid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func testRename(t *testing.T, e *env) {
	e.mustPut("/src/dir/f.txt", []byte("moved"))
	e.mustPut("/file", []byte("f"))
	if resp, b := e.do(http.MethodPost, "/dst/dir2?mv.from=/src/dir", nil); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("mv: %d %s", resp.StatusCode, b)
	}
	if _, got := e.do(http.MethodGet, "/dst/dir2/f.txt", nil); string(got) != "moved" {
		t.Fatalf("moved file reads %q", got)
	}
	if resp, _ := e.do(http.MethodHead, "/src/dir/f.txt", nil); resp.StatusCode != http.StatusNotFound {
		t.Fatal("source still there")
	}
	resp, b := e.do(http.MethodPost, "/x?mv.from=/nope", nil)
	wantError(t, "mv of a missing source", resp, b, http.StatusNotFound, "not found")
	resp, b = e.do(http.MethodPost, "/file?mv.from=/dst/dir2", nil)
	wantError(t, "mv of a folder over a file", resp, b, http.StatusConflict, "conflict")
	resp, b = e.do(http.MethodPost, "/dst/dir2/in?mv.from=/dst", nil)
	wantError(t, "mv into itself", resp, b, http.StatusBadRequest, "subtree")
	resp, b = e.do(http.MethodPost, "/x?mv.from=/a/../b", nil)
	wantError(t, "mv with ..", resp, b, http.StatusBadRequest, "..")
}

func testMetadata(t *testing.T, e *env) {
	e.mustPut("/m.bin", randomBytes(3, 300<<10))
	resp, b := e.do(http.MethodGet, "/m.bin?metadata=true", nil)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("metadata: %d %s", resp.StatusCode, b)
	}
	var m map[string]any
	json.Unmarshal(b, &m)
	chunks, _ := m["chunks"].([]any)
	if m["FullPath"] != "/m.bin" || m["FileSize"].(float64) != 300<<10 || len(chunks) != 2 {
		t.Fatalf("metadata %s", b)
	}
	c1 := chunks[1].(map[string]any)
	if c1["offset"].(float64) != 256<<10 || c1["fid"] == nil || c1["file_id"] == "" {
		t.Fatalf("chunk JSON %v", c1)
	}
	if _, has := chunks[0].(map[string]any)["offset"]; has {
		t.Fatal("offset 0 must be omitted")
	}
}

func testAppend(t *testing.T, e *env) {
	var want []byte
	for i, n := range []int{5, 300 << 10, 7} {
		part := randomBytes(uint64(20+i), n)
		want = append(want, part...)
		if resp, b := e.do(http.MethodPost, "/log?op=append", bytes.NewReader(part)); resp.StatusCode != http.StatusCreated {
			t.Fatalf("append %d: %d %s", i, resp.StatusCode, b)
		}
	}
	if _, got := e.do(http.MethodGet, "/log", nil); !bytes.Equal(got, want) {
		t.Fatalf("appended file reads %d bytes, want %d", len(got), len(want))
	}
}

func testExtended(t *testing.T, e *env) {
	e.mustPut("/x.txt", []byte("x"), "Seaweed-Owner", "bob", "Seaweed-Project", "weed", "X-Other", "no")
	resp, _ := e.do(http.MethodGet, "/x.txt", nil)
	if resp.Header.Get("Seaweed-Owner") != "bob" || resp.Header.Get("Seaweed-Project") != "weed" || resp.Header.Get("X-Other") != "" {
		t.Fatalf("headers %v", resp.Header)
	}
	if m := e.metadata("/x.txt"); string(m.Extended["Seaweed-Owner"]) != "bob" {
		t.Fatalf("extended %v", m.Extended)
	}
}

func testQueryOptions(t *testing.T, e *env) {
	body := randomBytes(4, 2<<20+5)
	e.mustPut("/q.bin?maxMB=1&collection=pics&ttl=1d&mode=0640", body)
	m := e.metadata("/q.bin")
	if len(m.Chunks) != 3 || m.TTLSec != 86400 || m.Mode.Perm() != 0o640 {
		t.Fatalf("entry %+v", m)
	}
	if _, got := e.do(http.MethodGet, "/q.bin", nil); !bytes.Equal(got, body) {
		t.Fatal("body differs")
	}
	for _, q := range []string{"maxMB=0", "maxMB=x", "ttl=forever", "mode=999"} {
		resp, b := e.put("/bad?"+q, []byte("x"))
		wantError(t, q, resp, b, http.StatusBadRequest, strings.SplitN(q, "=", 2)[0])
	}
	if resp, _ := e.do(http.MethodHead, "/bad", nil); resp.StatusCode != http.StatusNotFound {
		t.Fatal("a refused write left an entry")
	}
}

// rawRequest sends bytes as they are, so paths reach the server uncleaned.
func rawRequest(t *testing.T, addr, req string) (int, string) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, req); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func testBadPaths(t *testing.T, e *env) {
	e.mustPut("/inside/keep", []byte("k"))
	long := strings.Repeat("n", filer.MaxNameLen+1)
	for _, p := range []string{"/inside/../escape", "/a/./b", "/nul%00byte", "/" + long, "/bad%ffutf8"} {
		code, body := rawRequest(t, e.addr, "PUT "+p+" HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx")
		if code != http.StatusBadRequest || !strings.Contains(body, `"error"`) {
			t.Errorf("PUT %.40s: %d %s", p, code, body)
		}
		code, body = rawRequest(t, e.addr, "GET "+p+" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		if code != http.StatusBadRequest || !strings.Contains(body, `"error"`) {
			t.Errorf("GET %.40s: %d %s", p, code, body)
		}
	}
	// Runs of slashes mean the same entry.
	if resp, got := e.do(http.MethodGet, "//inside///keep", nil); resp.StatusCode != http.StatusOK || string(got) != "k" {
		t.Fatalf("//inside///keep: %d %q", resp.StatusCode, got)
	}
	l := e.list("/")
	if len(l.Entries) != 1 || entryPath(t, l.Entries[0]) != "/inside" {
		t.Fatalf("root holds %d entries after bad writes", len(l.Entries))
	}
}

func testConflicts(t *testing.T, e *env) {
	e.mustPut("/c/file", []byte("f"))
	resp, b := e.put("/c/file/child", []byte("x"))
	wantError(t, "file under a file", resp, b, http.StatusConflict, "/c/file")
	resp, b = e.put("/c", []byte("x"))
	wantError(t, "file over a folder", resp, b, http.StatusConflict, "/c")
	resp, b = e.do(http.MethodPost, "/c/file/", nil)
	wantError(t, "folder over a file", resp, b, http.StatusConflict, "/c/file")
	resp, b = e.do(http.MethodPut, "/", strings.NewReader("x"))
	wantError(t, "file over the root", resp, b, http.StatusConflict, "root")
}

func testContentMD5(t *testing.T, e *env) {
	body := []byte("checked body")
	sum := md5.Sum(body)
	e.mustPut("/ok-b64", body, "Content-MD5", base64.StdEncoding.EncodeToString(sum[:]))
	e.mustPut("/ok-hex", body, "Content-MD5", hex.EncodeToString(sum[:]))
	bad := md5.Sum([]byte("other"))
	resp, b := e.put("/bad", body, "Content-MD5", base64.StdEncoding.EncodeToString(bad[:]))
	wantError(t, "md5 mismatch", resp, b, http.StatusBadRequest, "md5")
	resp, b = e.put("/bad", body, "Content-MD5", "nonsense")
	wantError(t, "md5 garbage", resp, b, http.StatusBadRequest, "Content-MD5")
	if resp, _ := e.do(http.MethodHead, "/bad", nil); resp.StatusCode != http.StatusNotFound {
		t.Fatal("a refused body left an entry")
	}
}

func testCutOffUpload(t *testing.T, e *env) {
	conn, err := net.Dial("tcp", e.addr)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "PUT /cut.bin HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", 4<<20)
	conn.Write(randomBytes(5, 1<<20)) // a quarter, then the client dies
	time.Sleep(100 * time.Millisecond)
	conn.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		n, err := e.filer.PendingDeletions(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if resp, _ := e.do(http.MethodHead, "/cut.bin", nil); resp.StatusCode != http.StatusNotFound {
			t.Fatalf("entry after a cut-off upload: %d", resp.StatusCode)
		}
		// The fids reserved and held by no entry (those of the cut
		// upload among them) are not stored.
		stored := 0
		for _, fid := range unsettledFids(t, e.store) {
			if _, _, err := e.cluster.Client.Read(context.Background(), fid, client.ReadOptions{Length: 1}); err == nil {
				stored++
			}
		}
		if n == 0 && stored == 0 {
			break // chunks sent were deleted
		}
		if time.Now().After(deadline) {
			t.Fatalf("after a cut-off upload: %d fids queued, %d fids held by no entry still stored", n, stored)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func testEvents(t *testing.T, e *env) {
	since := time.Now().UnixNano()
	e.mustPut("/ev/a", []byte("1"))
	e.mustPut("/elsewhere", []byte("1"))
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s/internal/events?since=%d&prefix=/ev&heartbeat=0.05", e.url, since), nil)
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != server.EventsContentType {
		t.Fatalf("events: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	e.do(http.MethodPost, "/ev/a?op=append", strings.NewReader("2"))
	e.do(http.MethodDelete, "/ev/a", nil)
	br := bufio.NewReader(resp.Body)
	var got []string
	heartbeats := 0
	for len(got) < 4 || heartbeats == 0 {
		ev, err := server.ReadEvent(br)
		if err != nil {
			t.Fatalf("after %v: %v", got, err)
		}
		if ev.OldEntry == nil && ev.NewEntry == nil {
			heartbeats++
			continue
		}
		got = append(got, ev.GetOldEntry().GetFullPath()+">"+ev.GetNewEntry().GetFullPath())
	}
	if want := ">/ev,>/ev/a,/ev/a>/ev/a,/ev/a>"; strings.Join(got, ",") != want {
		t.Fatalf("events %v, want %s", got, want)
	}
	resp2, b := e.do(http.MethodGet, "/internal/events?since=x", nil)
	wantError(t, "bad since", resp2, b, http.StatusBadRequest, "since")
}
