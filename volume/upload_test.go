package volume

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"errors"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"strings"
	"testing"
	"time"
)

var testNow = time.Unix(1700000000, 0)

func multipartRequest(t *testing.T, parts ...[3]string) *http.Request {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, p := range parts { // name, filename, content
		h := textproto.MIMEHeader{}
		cd := `form-data; name="` + p[0] + `"`
		if p[1] != "" {
			cd += `; filename="` + p[1] + `"`
		}
		h.Set("Content-Disposition", cd)
		if p[1] != "" {
			h.Set("Content-Type", "application/octet-stream")
		}
		w, err := mw.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(p[2]))
	}
	mw.Close()
	r := httptest.NewRequest("POST", "/3,01637037d6", &body)
	r.Header.Set("Content-Type", mw.FormDataContentType())
	return r
}

func TestParseMultipartTakesFirstPartWithFilename(t *testing.T) {
	r := multipartRequest(t, [3]string{"field", "", "ignored"}, [3]string{"file", "a.bin", "hello"})
	u, err := parseUpload(r, 1<<20, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if string(u.data) != "hello" || u.name != "a.bin" || u.mime != "" || u.gzipped {
		t.Fatalf("got %+v", u)
	}
	if u.lastModified != uint64(testNow.Unix()) {
		t.Fatalf("lastModified %d", u.lastModified)
	}
}

func TestParseRawPutStoresFidAsName(t *testing.T) {
	r := httptest.NewRequest("PUT", "/1,03a636710a?ts=1600000000", strings.NewReader(`{"a":1}`))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Seaweed-Owner", "alice")
	u, err := parseUpload(r, 1<<20, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if u.name != "1,03a636710a" || u.mime != "application/json" || u.lastModified != 1600000000 {
		t.Fatalf("got name %q mime %q lm %d", u.name, u.mime, u.lastModified)
	}
	if string(u.pairs) != `{"Owner":"alice"}` {
		t.Fatalf("pairs %s", u.pairs)
	}
}

func TestParseRawContentDisposition(t *testing.T) {
	r := httptest.NewRequest("POST", "/1,03a636710a", strings.NewReader("x"))
	r.Header.Set("Content-Type", "image/png")
	r.Header.Set("Content-Disposition", `attachment; filename="pic.png"`)
	u, err := parseUpload(r, 1<<20, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if u.name != "pic.png" || u.mime != "" {
		t.Fatalf("name %q mime %q: a mime implied by the extension is not stored", u.name, u.mime)
	}
}

func TestParseUploadLimitAndMD5(t *testing.T) {
	r := httptest.NewRequest("PUT", "/1,01aa", strings.NewReader(strings.Repeat("x", 101)))
	if _, err := parseUpload(r, 100, testNow); !errors.Is(err, errTooLarge) {
		t.Fatalf("over limit: %v", err)
	}
	r = httptest.NewRequest("PUT", "/1,01aa?type=replicate", strings.NewReader(strings.Repeat("x", 101)))
	if _, err := parseUpload(r, 100, testNow); err != nil {
		t.Fatalf("a replica write skips the limit: %v", err)
	}
	sum := md5.Sum([]byte("data"))
	good := base64.StdEncoding.EncodeToString(sum[:])
	r = httptest.NewRequest("PUT", "/1,01aa", strings.NewReader("data"))
	r.Header.Set("Content-MD5", good)
	if _, err := parseUpload(r, 0, testNow); err != nil {
		t.Fatalf("good md5: %v", err)
	}
	r = httptest.NewRequest("PUT", "/1,01aa", strings.NewReader("datb"))
	r.Header.Set("Content-MD5", good)
	if _, err := parseUpload(r, 0, testNow); err == nil || !strings.Contains(err.Error(), "Content-MD5") {
		t.Fatalf("bad md5 accepted: %v", err)
	}
}

func TestCompressionKeptOnlyWhenItSaves(t *testing.T) {
	text := strings.Repeat("all work and no play makes jack a dull boy\n", 140)
	r := httptest.NewRequest("PUT", "/1,01aa", strings.NewReader(text))
	r.Header.Set("Content-Disposition", `filename="notes.txt"`)
	u, err := parseUpload(r, 0, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if !u.gzipped || len(u.data) >= len(text)/10 || u.originalSize != len(text) {
		t.Fatalf("text not compressed: gzipped=%v %d bytes of %d", u.gzipped, len(u.data), len(text))
	}
	back, err := gunzip(u.data)
	if err != nil || string(back) != text {
		t.Fatalf("round trip: %v", err)
	}
	// The benchmark's mime is not compressible.
	r = httptest.NewRequest("PUT", "/1,01aa", strings.NewReader(text))
	r.Header.Set("Content-Type", "image/bench")
	if u, _ := parseUpload(r, 0, testNow); u.gzipped {
		t.Fatal("image/bench compressed")
	}
	// A replica keeps what the primary sent.
	r = httptest.NewRequest("PUT", "/1,01aa.txt?type=replicate", strings.NewReader(text))
	if u, _ := parseUpload(r, 0, testNow); u.gzipped {
		t.Fatal("replica write recompressed")
	}
}

func TestParseTarget(t *testing.T) {
	for _, c := range []struct {
		path, fid, name, ext string
	}{
		{"/3,01637037d6", "3,01637037d6", "", ""},
		{"/3,01637037d6.jpg", "3,01637037d6", "", ".jpg"},
		{"/3/01637037d6", "3,01637037d6", "", ""},
		{"/3/01637037d6/cat.png", "3,01637037d6", "cat.png", ".png"},
		{"/1,0a5edaa744_7", "1,115edaa744", "", ""}, // the _N delta is added to the key
	} {
		tg, err := parseTarget(c.path)
		if err != nil {
			t.Errorf("%s: %v", c.path, err)
			continue
		}
		if tg.fid.String() != c.fid || tg.filename != c.name || tg.ext != c.ext {
			t.Errorf("%s: got %s %q %q", c.path, tg.fid, tg.filename, tg.ext)
		}
	}
	for _, bad := range []string{"/", "/notafid", "/3,", "/x,01637037d6", "/3,zz", "/1/2/3/4", "/99999999999,01637037d6"} {
		if _, err := parseTarget(bad); !errors.Is(err, errBadPath) {
			t.Errorf("%s: got %v", bad, err)
		}
	}
}

// With no part named as a file, the first part is the data, even though
// the later parts are read into the same (reused) buffer after it.
func TestParseMultipartKeepsFirstPartInReusedBuffer(t *testing.T) {
	r := multipartRequest(t, [3]string{"a", "", "first part"}, [3]string{"b", "", "second, longer part"}, [3]string{"c", "", "3rd"})
	buf := bytes.NewBufferString("stale bytes of an earlier request")
	u, err := parseUploadInto(r, 1<<20, testNow, buf, -1)
	if err != nil {
		t.Fatal(err)
	}
	if string(u.data) != "first part" || u.name != "" {
		t.Fatalf("data %q name %q", u.data, u.name)
	}
}
