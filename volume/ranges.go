package volume

import (
	"net/http"
	"strconv"
	"strings"
)

// onlyRange says whether Range is the one header of a request that
// http.ServeContent would weigh (no preconditions), so a single range can
// be answered without it.
func onlyRange(h http.Header) bool {
	if _, ok := h["Range"]; !ok {
		return false
	}
	for _, k := range [...]string{"If-Match", "If-None-Match", "If-Modified-Since", "If-Unmodified-Since", "If-Range"} {
		if _, ok := h[k]; ok {
			return false
		}
	}
	return true
}

// singleRange parses a Range header of one plain satisfiable byte range
// ("bytes=a-b", "bytes=a-", "bytes=-n") over size bytes, as ServeContent
// reads it. Anything else (several ranges, spaces, a range past the end,
// bad syntax) is not ok and is left to ServeContent, which answers it
// (206 multipart, 416, or the whole body).
func singleRange(v string, size int64) (start, length int64, ok bool) {
	spec, found := strings.CutPrefix(v, "bytes=")
	if !found || size <= 0 || strings.ContainsAny(spec, ", \t") {
		return 0, 0, false
	}
	first, last, found := strings.Cut(spec, "-")
	if !found {
		return 0, 0, false
	}
	if first == "" { // the last n bytes
		n, err := strconv.ParseInt(last, 10, 64)
		if err != nil || n <= 0 {
			return 0, 0, false
		}
		n = min(n, size)
		return size - n, n, true
	}
	a, err := strconv.ParseInt(first, 10, 64)
	if err != nil || a < 0 || a >= size {
		return 0, 0, false
	}
	if last == "" {
		return a, size - a, true
	}
	b, err := strconv.ParseInt(last, 10, 64)
	if err != nil || b < a {
		return 0, 0, false
	}
	b = min(b, size-1)
	return a, b - a + 1, true
}

// contentRange is the Content-Range of a partial reply.
func contentRange(start, length, size int64) string {
	return "bytes " + strconv.FormatInt(start, 10) + "-" + strconv.FormatInt(start+length-1, 10) + "/" + strconv.FormatInt(size, 10)
}
