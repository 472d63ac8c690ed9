package volume

import (
	"bytes"
	"errors"
	"io"
	"mime/multipart"
	"reflect"
	"testing"
)

// checkSinglePart asserts that whenever singlePart accepts a body,
// mime/multipart reads the same single part from it: same header, same
// bytes, same file name, and no other part.
func checkSinglePart(t *testing.T, body []byte, boundary string) bool {
	t.Helper()
	hdr, data, ok := singlePart(body, boundary)
	if !ok {
		return false
	}
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	p, err := mr.NextPart()
	if err != nil {
		t.Fatalf("singlePart accepted %q but mime/multipart: %v", body, err)
	}
	want, err := io.ReadAll(p)
	if err != nil {
		t.Fatalf("singlePart accepted %q but mime/multipart: %v", body, err)
	}
	if !bytes.Equal(data, want) {
		t.Fatalf("%q: data %q, mime/multipart %q", body, data, want)
	}
	if !reflect.DeepEqual(map[string][]string(hdr), map[string][]string(p.Header)) {
		t.Fatalf("%q: header %v, mime/multipart %v", body, hdr, p.Header)
	}
	if got := formFileName(hdr); got != p.FileName() {
		t.Fatalf("%q: file name %q, mime/multipart %q", body, got, p.FileName())
	}
	if _, err := mr.NextPart(); !errors.Is(err, io.EOF) {
		t.Fatalf("singlePart accepted %q, which mime/multipart reads on: %v", body, err)
	}
	return true
}

const testBoundary = "b0undary"

func formOf(head, data, end string) []byte {
	return []byte("--" + testBoundary + "\r\n" + head + "\r\n" + data + "\r\n--" + testBoundary + end)
}

func TestSinglePartCommonForms(t *testing.T) {
	cd := "Content-Disposition: form-data; name=\"file\"; filename=\"dir/a.bin\"\r\nContent-Type: image/png\r\n"
	for _, body := range [][]byte{
		formOf(cd, "hello", "--\r\n"),
		formOf(cd, "", "--"),
		formOf(cd, "x\r\n--"+testBoundary+"x not the end", "--  \r\nepilogue"),
		formOf("", "no headers", "--\r\n"),
		formOf(cd, "\r\n--"+testBoundary+"-x", "--\r\n"),
	} {
		if !checkSinglePart(t, body, testBoundary) {
			t.Errorf("refused the common form %q", body)
		}
	}
	for _, body := range [][]byte{
		formOf(cd, "one", "\r\n"+cd+"\r\ntwo\r\n--"+testBoundary+"--"), // two parts
		append([]byte("preamble\r\n"), formOf(cd, "x", "--")...),
		[]byte("--" + testBoundary + "\n" + cd + "\nlf only\n--" + testBoundary + "--\n"),
		formOf("Content-Transfer-Encoding: quoted-printable\r\n", "a=3Db", "--"),
		formOf(cd, "no end", ""),
		formOf(cd, "x", "--junk"),
	} {
		if checkSinglePart(t, body, testBoundary) {
			t.Errorf("took the unusual form %q", body)
		}
	}
}

func FuzzSinglePart(f *testing.F) {
	f.Add(formOf("Content-Disposition: form-data; name=\"file\"; filename=\"a\"\r\n", "hello", "--\r\n"), testBoundary)
	f.Add(formOf("", "", "--"), testBoundary)
	f.Add(formOf("A: b\r\n c\r\n", "\r\n--"+testBoundary+" \r\n", "--\t"), testBoundary)
	f.Add([]byte("--x\r\nA: b\n\n\r\n\r\nd\r\n--x--"), "x")
	f.Add([]byte("--\r\n\r\n\r\n----"), "")
	f.Fuzz(func(t *testing.T, body []byte, boundary string) {
		checkSinglePart(t, body, boundary)
	})
}
