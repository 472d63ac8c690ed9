package mount

import (
	"bufio"
	"errors"
	"strings"
	"testing"

	"weedfs.dev/weed/filer"
)

// TestReadSaveReply: the answers a filer gives to a save are read whole,
// so the connection can carry the next request, and error replies keep
// their code.
func TestReadSaveReply(t *testing.T) {
	const next = "HTTP/1.1 204 No Content\r\n\r\n"
	for _, tc := range []struct {
		name, reply string
		status      int
		body        string
		keep        bool
	}{
		{"no content", "HTTP/1.1 204 No Content\r\nDate: Thu, 26 Nov 2026 14:00:00 GMT\r\n\r\n", 204, "", true},
		{"error with length", "HTTP/1.1 409 Conflict\r\nContent-Type: application/json\r\nContent-Length: 39\r\n\r\n{\"error\":\"is a file\",\"code\":\"conflict\"}", 409, `{"error":"is a file","code":"conflict"}`, true},
		{"chunked error", "HTTP/1.1 500 Internal Server Error\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 500, "hello", false},
		{"close", "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n", 204, "", false},
		{"http/1.0", "HTTP/1.0 204 No Content\r\n\r\n", 204, "", false},
	} {
		br := bufio.NewReader(strings.NewReader(tc.reply + next))
		status, body, keep, err := readSaveReply(br)
		if err != nil || status != tc.status || string(body) != tc.body || keep != tc.keep {
			t.Errorf("%s: status %d body %q keep %v err %v; want %d %q %v", tc.name, status, body, keep, err, tc.status, tc.body, tc.keep)
			continue
		}
		if tc.keep {
			if status, _, _, err := readSaveReply(br); err != nil || status != 204 {
				t.Errorf("%s: next reply: %d %v", tc.name, status, err)
			}
		}
	}
	for _, bad := range []string{"", "garbage\r\n\r\n", "HTTP/1.1 abc\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort"} {
		if _, _, _, err := readSaveReply(bufio.NewReader(strings.NewReader(bad))); err == nil {
			t.Errorf("%q read without error", bad)
		}
	}
	if err := replyBodyError(409, []byte(`{"error":"x","code":"conflict"}`)); !errors.Is(err, filer.ErrConflict) {
		t.Errorf("conflict reply: %v", err)
	}
}

// FuzzReadSaveReply: no answer makes the reader panic or return a body
// over its bound.
func FuzzReadSaveReply(f *testing.F) {
	f.Add([]byte("HTTP/1.1 204 No Content\r\n\r\n"))
	f.Add([]byte("HTTP/1.1 409 Conflict\r\nContent-Length: 2\r\n\r\n{}"))
	f.Add([]byte("HTTP/1.1 500 x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"))
	f.Add([]byte("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nbody until EOF"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, body, _, err := readSaveReply(bufio.NewReader(strings.NewReader(string(b))))
		if err == nil && len(body) > maxErrorBody {
			t.Fatalf("body of %d bytes", len(body))
		}
	})
}
