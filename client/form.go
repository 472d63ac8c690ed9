package client

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"io"
	"net/http"
)

// boundaryLen is the random bytes of a multipart boundary (hex-encoded, so
// the boundary is twice as long), as mime/multipart uses.
const boundaryLen = 30

// newBoundary returns a random multipart boundary.
func newBoundary() string {
	var b [boundaryLen]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// formPart is what the one part of an upload body says about its bytes.
type formPart struct {
	name, mime string
	gzipped    bool
}

// formBody is a multipart/form-data body of one part holding data, as
// mime/multipart would write it, built without copying data: the head and
// tail are small, and the request reads data in place. boundary is used
// unless data holds its delimiter, when a fresh one is drawn.
func formBody(boundary string, data []byte, p formPart) (head, tail []byte, ctype string) {
	for boundary == "" || bytes.Contains(data, []byte("--"+boundary)) {
		boundary = newBoundary()
	}
	ctype = "multipart/form-data; boundary=" + boundary
	if p.mime == "" {
		p.mime = "application/octet-stream"
	}
	// Headers in the order mime/multipart writes them (sorted by key).
	head = make([]byte, 0, 2*len(boundary)+len(p.name)+len(p.mime)+128)
	head = append(head, "--"...)
	head = append(head, boundary...)
	head = append(head, "\r\nContent-Disposition: form-data; name=\"file\"; filename=\""...)
	head = append(head, escapeQuotes(p.name)...)
	head = append(head, "\"\r\n"...)
	if p.gzipped {
		head = append(head, "Content-Encoding: gzip\r\n"...)
	}
	head = append(head, "Content-Type: "...)
	head = append(head, p.mime...)
	head = append(head, "\r\n\r\n"...)
	tail = []byte("\r\n--" + boundary + "--\r\n")
	return head, tail, ctype
}

// joinLimit is the largest body setBody joins into one buffer. The
// transport writes a body that is not one in-memory reader after flushing
// the headers on their own, a second syscall: that costs more than
// copying a small body, and nothing next to sending a large one.
const joinLimit = 64 << 10

// setBody gives req a body of the pieces in order, with its length and a
// GetBody, so the transport can resend it on a fresh connection when a
// kept-alive one turns out closed.
func setBody(req *http.Request, pieces ...[]byte) {
	var n int64
	for _, p := range pieces {
		n += int64(len(p))
	}
	if n <= joinLimit && len(pieces) > 1 {
		joined := make([]byte, 0, n)
		for _, p := range pieces {
			joined = append(joined, p...)
		}
		pieces = [][]byte{joined}
	}
	open := func() (io.ReadCloser, error) {
		if len(pieces) == 1 {
			// A bare *bytes.Reader: the transport knows it is in memory.
			return io.NopCloser(bytes.NewReader(pieces[0])), nil
		}
		rs := make([]io.Reader, len(pieces))
		for i, p := range pieces {
			rs[i] = bytes.NewReader(p)
		}
		return io.NopCloser(io.MultiReader(rs...)), nil
	}
	req.Body, _ = open()
	req.GetBody = open
	req.ContentLength = n
	if n == 0 {
		req.Body, req.GetBody = http.NoBody, func() (io.ReadCloser, error) { return http.NoBody, nil }
	}
}
