package volume

import (
	"bytes"
	"io"
	"net/http/httptest"
	"strconv"
	"testing"

	"weedfs.dev/weed/storage/needle"
)

// pieces reads at most n bytes a call, as a socket hands a body over.
type pieces struct {
	r io.Reader
	n int
}

func (p *pieces) Read(b []byte) (int, error) { return p.r.Read(b[:min(len(b), p.n)]) }

// parseInPieces parses body as an upload arriving k bytes at a time; a
// multipart one when ctype is set.
func parseInPieces(t *testing.T, body []byte, ctype string, k int) (*upload, error) {
	t.Helper()
	method := "PUT"
	if ctype != "" {
		method = "POST"
	}
	r := httptest.NewRequest(method, "/3,01637037d6", &pieces{r: bytes.NewReader(body), n: k})
	r.ContentLength = int64(len(body))
	if ctype != "" {
		r.Header.Set("Content-Type", ctype)
	} else {
		r.Header.Set("Content-Type", "application/octet-stream")
	}
	return parseUpload(r, 1<<20, testNow)
}

// The CRC computed while a body arrives is the data's, whatever the
// pieces; for the common forms it is known (the store need not compute it).
func TestUploadCRCWhileReading(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789abcdef"), 20000)
	cd := "Content-Disposition: form-data; name=\"file\"; filename=\"a.bin\"\r\nContent-Type: image/png\r\n"
	ctype := "multipart/form-data; boundary=" + testBoundary
	cases := []struct {
		body      []byte
		ctype     string
		wantKnown bool
	}{
		{data, "", true},
		{formOf(cd, string(data), "--\r\n"), ctype, true},
		{formOf("", string(data), "--\r\n"), ctype, true},
		{formOf(cd, "tiny", "--\r\n"), ctype, true},
		{formOf(cd, string(data), "--\r\nan epilogue longer than the lag, which the sum may have run into"), ctype, false},
		{append([]byte("preamble\r\n"), formOf(cd, string(data), "--\r\n")...), ctype, false},
	}
	for i, c := range cases {
		for _, k := range []int{1, 7, 100, 4096, 1 << 20} {
			if k == 1 && len(c.body) > 10000 {
				continue
			}
			u, err := parseInPieces(t, c.body, c.ctype, k)
			if err != nil {
				t.Fatalf("case %d, pieces of %d: %v", i, k, err)
			}
			if u.crc != nil && *u.crc != needle.CRC(u.data) {
				t.Fatalf("case %d, pieces of %d: CRC %08x while reading, %08x of the data", i, k, *u.crc, needle.CRC(u.data))
			}
			if c.wantKnown && u.crc == nil {
				t.Errorf("case %d, pieces of %d: CRC not computed while reading", i, k)
			}
		}
	}
}

// Whatever the body and the pieces, a CRC computed while reading is the
// stored data's.
func FuzzUploadCRC(f *testing.F) {
	f.Add(formOf("Content-Disposition: form-data; name=\"file\"; filename=\"a\"\r\n", "hello", "--\r\n"), testBoundary, true, 3)
	f.Add(formOf("", "x", "--\r\nepilogue"), testBoundary, true, 1)
	f.Add([]byte("--x\r\nA: b\n\n\r\n\r\nd\r\n--x--"), "x", true, 2)
	f.Add([]byte("raw bytes"), "", false, 4)
	f.Fuzz(func(t *testing.T, body []byte, boundary string, form bool, k int) {
		if k <= 0 || len(body) == 0 {
			return
		}
		ctype := ""
		if form {
			ctype = "multipart/form-data; boundary=" + strconv.Quote(boundary)
		}
		u, err := parseInPieces(t, body, ctype, k)
		if err != nil || u.crc == nil {
			return
		}
		if *u.crc != needle.CRC(u.data) {
			t.Fatalf("CRC %08x while reading, %08x of the data", *u.crc, needle.CRC(u.data))
		}
	})
}
