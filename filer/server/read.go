package server

import (
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"weedfs.dev/weed/filer"
)

// extendedPrefix marks the request headers kept as extended attributes.
const extendedPrefix = "Seaweed-"

func (s *Server) handleRead(w http.ResponseWriter, r *http.Request) {
	p, _, err := requestPath(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	e, err := s.f.FindEntry(r.Context(), p)
	if err != nil {
		if errors.Is(err, filer.ErrNotFound) && r.Method == http.MethodHead {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		s.fail(w, r, err)
		return
	}
	q := r.URL.Query()
	if q.Get("metadata") == "true" {
		if q.Get("resolveManifest") == "true" {
			if e.Chunks, err = s.f.ResolveChunks(r.Context(), e.Chunks); err != nil {
				s.fail(w, r, err)
				return
			}
		}
		writeJSON(w, http.StatusOK, e)
		return
	}
	if e.IsDirectory() {
		s.handleList(w, r, e)
		return
	}
	s.serveFile(w, r, e)
}

// etag is the entry's ETag as SeaweedFS makes it: the body's MD5, else the
// one chunk's ETag, else the MD5 of the chunk ETags with "-<count>".
func etag(e *filer.Entry) string {
	switch {
	case len(e.Md5) > 0:
		return hex.EncodeToString(e.Md5)
	case len(e.Chunks) == 1:
		return e.Chunks[0].ETag
	case len(e.Chunks) > 1:
		h := md5.New()
		for _, c := range e.Chunks {
			b, err := hex.DecodeString(c.ETag)
			if err != nil {
				b = []byte(c.ETag)
			}
			h.Write(b)
		}
		return fmt.Sprintf("%x-%d", h.Sum(nil), len(e.Chunks))
	}
	sum := md5.Sum(e.Content)
	return hex.EncodeToString(sum[:])
}

func contentType(e *filer.Entry) string {
	if e.Mime != "" {
		return e.Mime
	}
	if t := mime.TypeByExtension(path.Ext(e.FullPath)); t != "" {
		return t
	}
	return "application/octet-stream"
}

func (s *Server) serveFile(w http.ResponseWriter, r *http.Request, e *filer.Entry) {
	h := w.Header()
	tag := `"` + etag(e) + `"`
	mtime := e.Mtime.UTC().Truncate(time.Second)
	h.Set("Accept-Ranges", "bytes")
	h.Set("ETag", tag)
	if !e.Mtime.IsZero() {
		h.Set("Last-Modified", mtime.Format(http.TimeFormat))
	}
	h.Set("Content-Type", contentType(e))
	h.Set("Content-Disposition", `inline; filename="`+strings.ReplaceAll(e.Name(), `"`, `\"`)+`"`)
	h.Set("Access-Control-Expose-Headers", "Content-Disposition, ETag, Last-Modified, Content-Length, Content-Range")
	for k, v := range e.Extended {
		if strings.HasPrefix(k, extendedPrefix) {
			h.Set(k, string(v))
		}
	}
	if status := preconditions(r, tag, mtime, e.Mtime.IsZero()); status != 0 {
		if status == http.StatusNotModified {
			h.Del("Content-Type")
		}
		w.WriteHeader(status)
		return
	}
	size := int64(e.FileSize)
	off, n, status := parseRange(r, tag, mtime, size)
	if status == http.StatusRequestedRangeNotSatisfiable {
		h.Set("Content-Range", "bytes */"+strconv.FormatInt(size, 10))
		writeError(w, status, fmt.Errorf("range %q is not within %d bytes", r.Header.Get("Range"), size))
		return
	}
	if status == http.StatusPartialContent {
		h.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", off, off+n-1, size))
	}
	h.Set("Content-Length", strconv.FormatInt(n, 10))
	w.WriteHeader(status)
	if r.Method == http.MethodHead {
		return
	}
	if err := s.f.WriteRange(r.Context(), w, e, off, n); err != nil && r.Context().Err() == nil {
		// Headers are gone: the client sees a short body.
		s.log.Warn("read file", "path", e.FullPath, "err", err)
	}
}

// preconditions evaluates If-Match, If-Unmodified-Since, If-None-Match and
// If-Modified-Since (RFC 9110 §13.2.2 order) and returns the status that
// ends the request, or 0 to go on.
func preconditions(r *http.Request, tag string, mtime time.Time, noTime bool) int {
	h := r.Header
	if im := h.Get("If-Match"); im != "" {
		if !matchETag(im, tag, false) {
			return http.StatusPreconditionFailed
		}
	} else if ius := h.Get("If-Unmodified-Since"); ius != "" && !noTime {
		if t, err := http.ParseTime(ius); err == nil && mtime.After(t) {
			return http.StatusPreconditionFailed
		}
	}
	get := r.Method == http.MethodGet || r.Method == http.MethodHead
	if inm := h.Get("If-None-Match"); inm != "" {
		if matchETag(inm, tag, true) {
			if get {
				return http.StatusNotModified
			}
			return http.StatusPreconditionFailed
		}
	} else if ims := h.Get("If-Modified-Since"); ims != "" && get && !noTime {
		if t, err := http.ParseTime(ims); err == nil && !mtime.After(t) {
			return http.StatusNotModified
		}
	}
	return 0
}

// matchETag checks tag against a comma-separated list of entity tags;
// weak comparison ignores W/ prefixes.
func matchETag(list, tag string, weak bool) bool {
	for _, t := range strings.Split(list, ",") {
		t = strings.TrimSpace(t)
		if t == "*" {
			return true
		}
		if weak {
			t = strings.TrimPrefix(t, "W/")
		} else if strings.HasPrefix(t, "W/") {
			continue
		}
		if t == tag {
			return true
		}
	}
	return false
}

// parseRange reads one byte range (bytes=a-b, a-, -n). A Range the server
// does not honour (several ranges, another unit, an If-Range that does not
// match) serves the whole body with 200, as RFC 9110 allows.
func parseRange(r *http.Request, tag string, mtime time.Time, size int64) (off, n int64, status int) {
	rh := r.Header.Get("Range")
	if rh == "" || !strings.HasPrefix(rh, "bytes=") || strings.Contains(rh, ",") {
		return 0, size, http.StatusOK
	}
	if ir := r.Header.Get("If-Range"); ir != "" {
		if t, err := http.ParseTime(ir); err == nil {
			if !mtime.Equal(t) {
				return 0, size, http.StatusOK
			}
		} else if ir != tag {
			return 0, size, http.StatusOK
		}
	}
	spec := strings.TrimSpace(rh[len("bytes="):])
	first, last, ok := strings.Cut(spec, "-")
	if !ok {
		return 0, size, http.StatusOK
	}
	first, last = strings.TrimSpace(first), strings.TrimSpace(last)
	if first == "" {
		k, err := strconv.ParseInt(last, 10, 64)
		if err != nil || k < 0 {
			return 0, size, http.StatusOK
		}
		if k == 0 {
			return 0, 0, http.StatusRequestedRangeNotSatisfiable
		}
		k = min(k, size)
		return size - k, k, http.StatusPartialContent
	}
	a, err := strconv.ParseInt(first, 10, 64)
	if err != nil || a < 0 {
		return 0, size, http.StatusOK
	}
	if a >= size {
		return 0, 0, http.StatusRequestedRangeNotSatisfiable
	}
	b := size - 1
	if last != "" {
		if b, err = strconv.ParseInt(last, 10, 64); err != nil || b < a {
			return 0, size, http.StatusOK
		}
		b = min(b, size-1)
	}
	return a, b - a + 1, http.StatusPartialContent
}
