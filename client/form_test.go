package client

import (
	"bytes"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"testing"
)

// parseForm reads a formBody back with mime/multipart, as a server does.
func parseForm(t *testing.T, head, data, tail []byte, ctype string) (*multipart.Part, []byte) {
	t.Helper()
	_, params, err := mime.ParseMediaType(ctype)
	if err != nil {
		t.Fatal(err)
	}
	body := bytes.Join([][]byte{head, data, tail}, nil)
	mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	p, err := mr.NextPart()
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mr.NextPart(); err != io.EOF {
		t.Fatalf("a second part or a broken end: %v", err)
	}
	return p, got
}

func TestFormBodyParses(t *testing.T) {
	data := []byte("hello\r\n--not a boundary\r\n")
	head, tail, ctype := formBody(newBoundary(), data, formPart{name: `a "b".txt`, mime: "text/plain", gzipped: true})
	p, got := parseForm(t, head, data, tail, ctype)
	if !bytes.Equal(got, data) {
		t.Fatalf("data %q, want %q", got, data)
	}
	if p.FileName() != `a "b".txt` || p.FormName() != "file" {
		t.Fatalf("file name %q form name %q", p.FileName(), p.FormName())
	}
	if p.Header.Get("Content-Type") != "text/plain" || p.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("part header %v", p.Header)
	}
}

func TestFormBodyAvoidsBoundaryInData(t *testing.T) {
	b := newBoundary()
	data := []byte("x\r\n--" + b + "--\r\ny")
	head, tail, ctype := formBody(b, data, formPart{name: "f"})
	if bytes.Contains([]byte(ctype), []byte(b)) {
		t.Fatal("kept a boundary that the data holds")
	}
	p, got := parseForm(t, head, data, tail, ctype)
	if !bytes.Equal(got, data) {
		t.Fatalf("data %q, want %q", got, data)
	}
	if p.Header.Get("Content-Type") != "application/octet-stream" {
		t.Fatalf("default type %q", p.Header.Get("Content-Type"))
	}
}

func TestSetBodyResends(t *testing.T) {
	for _, size := range []int{0, 10, joinLimit + 1} {
		data := bytes.Repeat([]byte{'d'}, size)
		req, err := http.NewRequest(http.MethodPost, "http://127.0.0.1/1,01", nil)
		if err != nil {
			t.Fatal(err)
		}
		setBody(req, []byte("head"), data, []byte("tail"))
		want := append(append([]byte("head"), data...), "tail"...)
		if req.ContentLength != int64(len(want)) {
			t.Fatalf("size %d: content length %d, want %d", size, req.ContentLength, len(want))
		}
		for i := 0; i < 2; i++ { // the body, then what GetBody gives a retry
			got, err := io.ReadAll(req.Body)
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("size %d, read %d: %d bytes, err %v", size, i, len(got), err)
			}
			if req.Body, err = req.GetBody(); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestFormBodyDrawsMissingBoundary(t *testing.T) {
	data := []byte("a -- b")
	head, tail, ctype := formBody("", data, formPart{name: "f"})
	if _, got := parseForm(t, head, data, tail, ctype); !bytes.Equal(got, data) {
		t.Fatalf("data %q, want %q", got, data)
	}
}
