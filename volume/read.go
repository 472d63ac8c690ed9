package volume

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"weedfs.dev/weed/client"
	"weedfs.dev/weed/security"
	"weedfs.dev/weed/storage"
	"weedfs.dev/weed/storage/needle"
)

// minPooledRead is the record size from which a read takes its buffer from
// the pool: a small one is cheaper to allocate than to fetch and return.
const minPooledRead = 32 << 10

// responseOverrides are query parameters that set a response header, as S3
// presigned URLs do.
var responseOverrides = map[string]string{
	"response-content-type":        "Content-Type",
	"response-content-disposition": "Content-Disposition",
	"response-cache-control":       "Cache-Control",
	"response-content-encoding":    "Content-Encoding",
	"response-content-language":    "Content-Language",
	"response-expires":             "Expires",
}

func (s *Server) handleRead(w http.ResponseWriter, r *http.Request) {
	t, err := parseTarget(r.URL.Path)
	if err != nil {
		writeError(w, r, http.StatusBadRequest, err)
		return
	}
	if s.cfg.Security.Read.Enabled() {
		if err := security.Verify(s.cfg.Security.Read, security.TokenFromRequest(r), t.fidText, s.now()); err != nil {
			writeError(w, r, http.StatusUnauthorized, security.ErrWrongJWT)
			return
		}
	}
	q := r.URL.Query()
	// The record is read into a pooled buffer, given back once the reply
	// is written: a 4 MiB chunk read costs no allocation.
	var rbuf *bytes.Buffer
	defer func() {
		if rbuf != nil {
			s.bodies.put(rbuf)
		}
	}()
	pooled := func(size int) []byte {
		if size < minPooledRead {
			return nil // the store allocates: cheaper than the pool
		}
		rbuf = s.bodies.get(size)
		return alloc(rbuf, size)
	}
	n, body, err := s.readNeedle(r, t, q, pooled)
	switch {
	case err == nil:
	case errors.Is(err, storage.ErrVolumeNotFound) && s.readElsewhere(w, r, t.fid.VolumeID):
		return
	case errors.Is(err, storage.ErrVolumeNotFound), errors.Is(err, storage.ErrNotFound),
		errors.Is(err, storage.ErrDeleted), errors.Is(err, storage.ErrCookieMismatch):
		w.WriteHeader(http.StatusNotFound)
		return
	default:
		s.log.Error("read failed", "fid", t.fidText, "err", err)
		writeError(w, r, http.StatusInternalServerError, err)
		return
	}

	etag := `"` + needle.ETag(n.Checksum) + `"`
	h := w.Header()
	h.Set("ETag", etag)
	var modTime time.Time
	if n.HasLastModified() && n.LastModified > 0 {
		modTime = time.Unix(int64(n.LastModified), 0)
	}
	if inm := r.Header.Get("If-None-Match"); inm != "" && inm == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	setPairs(h, n.Pairs)

	name := string(n.Name)
	if t.filename != "" {
		name = t.filename
	}
	ctype := string(n.Mime)
	if ctype == "" {
		ext := path.Ext(name)
		if ext == "" {
			ext = t.ext
		}
		ctype = mime.TypeByExtension(strings.ToLower(ext))
	}

	data := n.Data
	if body != nil { // HEAD of a plain needle: its length, not its bytes
		h.Set("Content-Type", ctype)
		setDisposition(h, q, name)
		applyOverrides(h, q)
		http.ServeContent(w, r, "", modTime, body)
		return
	}
	if n.IsChunkManifest() && q.Get("cm") != "false" {
		s.serveManifest(w, r, n, name, modTime)
		return
	}
	if n.IsGzipped() {
		if r.Header.Get("Range") == "" && acceptsGzip(r) {
			h.Set("Content-Encoding", "gzip")
		} else if data, err = gunzip(data); err != nil {
			writeError(w, r, http.StatusInternalServerError, fmt.Errorf("stored gzip data: %w", err))
			return
		}
	}
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	h.Set("Content-Type", ctype)
	setDisposition(h, q, name)
	applyOverrides(h, q)
	if r.Method == http.MethodGet && onlyRange(r.Header) {
		if start, length, ok := singleRange(r.Header.Get("Range"), int64(len(data))); ok {
			// What ServeContent answers, in one write instead of 32 KiB
			// copies: the filer and the mount read chunks this way.
			h.Set("Accept-Ranges", "bytes")
			if !modTime.IsZero() {
				h.Set("Last-Modified", modTime.UTC().Format(http.TimeFormat))
			}
			h.Set("Content-Range", contentRange(start, length, int64(len(data))))
			h.Set("Content-Length", strconv.FormatInt(length, 10))
			w.WriteHeader(http.StatusPartialContent)
			w.Write(data[start : start+length])
			return
		}
	}
	if r.Method == http.MethodGet && !conditional(r.Header) {
		// The common case, answered in one write: ServeContent copies a
		// body over 512 bytes in two (headers and the first 512 bytes,
		// then the rest), a second syscall on every small read.
		h.Set("Accept-Ranges", "bytes")
		if !modTime.IsZero() {
			h.Set("Last-Modified", modTime.UTC().Format(http.TimeFormat))
		}
		h.Set("Content-Length", strconv.Itoa(len(data)))
		w.WriteHeader(http.StatusOK)
		w.Write(data)
		return
	}
	// ServeContent answers Range (one or many), If-Modified-Since and HEAD.
	http.ServeContent(w, r, "", modTime, bytes.NewReader(data))
}

// conditional says whether a request has a header that ServeContent
// must weigh: a range or a precondition.
func conditional(h http.Header) bool {
	for _, k := range [...]string{"Range", "If-Match", "If-None-Match", "If-Modified-Since", "If-Unmodified-Since", "If-Range"} {
		if _, ok := h[k]; ok {
			return true
		}
	}
	return false
}

// setDisposition names the file for the browser: inline, or attachment
// with ?dl=true.
func setDisposition(h http.Header, q url.Values, name string) {
	if name == "" {
		return
	}
	disp := "inline"
	if q.Get("dl") == "true" || q.Get("dl") == "1" {
		disp = "attachment"
	}
	h.Set("Content-Disposition", mime.FormatMediaType(disp, map[string]string{"filename": name}))
}

// applyOverrides sets the headers the response-* parameters ask for.
func applyOverrides(h http.Header, q url.Values) {
	for param, header := range responseOverrides {
		if v := q.Get(param); v != "" {
			h.Set(header, v)
		}
	}
}

// readNeedle reads the needle a request names. A HEAD of a needle that is
// neither compressed nor a manifest reads only its metadata, and body is a
// stand-in of the data's length for http.ServeContent (never read from).
func (s *Server) readNeedle(r *http.Request, t target, q url.Values, alloc func(int) []byte) (*needle.Needle, io.ReadSeeker, error) {
	opts := storage.ReadOptions{ReadDeleted: q.Get("readDeleted") == "true", Alloc: alloc}
	if r.Method == http.MethodHead {
		vol, err := s.store.Volume(t.fid.VolumeID)
		if err != nil {
			return nil, nil, err
		}
		n, size, err := vol.ReadMeta(r.Context(), t.fid.Key, t.fid.Cookie, opts)
		if err != nil {
			return nil, nil, err
		}
		if !n.IsGzipped() && !n.IsChunkManifest() {
			return n, io.NewSectionReader(zeros{}, 0, int64(size)), nil
		}
	}
	n, err := s.store.Read(r.Context(), t.fid.VolumeID, t.fid.Key, t.fid.Cookie, opts)
	return n, nil, err
}

// localChunk reads the data of a manifest's chunk when this server holds
// it, sparing a loopback HTTP round trip (and two copies through sockets)
// per chunk, into a pooled buffer that release gives back. Anything
// unusual (not here, unreadable, a nested manifest, bad gzip) is left to
// the HTTP path, so errors read as before.
func (s *Server) localChunk(ctx context.Context, fid string) (data []byte, release func(), ok bool) {
	id, err := needle.ParseFileID(fid)
	if err != nil {
		return nil, nil, false
	}
	var buf *bytes.Buffer
	release = func() {
		if buf != nil {
			s.bodies.put(buf)
			buf = nil
		}
	}
	pooled := func(size int) []byte {
		if size < minPooledRead {
			return nil
		}
		buf = s.bodies.get(size)
		return alloc(buf, size)
	}
	n, err := s.store.Read(ctx, id.VolumeID, id.Key, id.Cookie, storage.ReadOptions{Alloc: pooled})
	if err != nil || n.IsChunkManifest() {
		release()
		return nil, nil, false
	}
	if !n.IsGzipped() {
		return n.Data, release, true
	}
	data, err = gunzip(n.Data)
	release()
	return data, nil, err == nil
}

// zeros is an io.ReaderAt of zero bytes, the body of a HEAD stand-in.
type zeros struct{}

func (zeros) ReadAt(p []byte, off int64) (int, error) {
	clear(p)
	return len(p), nil
}

func acceptsGzip(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept-Encoding"), "gzip")
}

// setPairs returns the needle's stored Seaweed-* pairs as headers.
func setPairs(h http.Header, pairs []byte) {
	if len(pairs) == 0 {
		return
	}
	var m map[string]string
	if json.Unmarshal(pairs, &m) != nil {
		return
	}
	for k, v := range m {
		h.Set(k, v)
	}
}

// serveManifest streams the chunks a manifest lists, joined.
func (s *Server) serveManifest(w http.ResponseWriter, r *http.Request, n *needle.Needle, name string, modTime time.Time) {
	data := n.Data
	if n.IsGzipped() {
		var err error
		if data, err = gunzip(data); err != nil {
			writeError(w, r, http.StatusInternalServerError, err)
			return
		}
	}
	m, err := client.ParseManifest(data)
	if err != nil {
		writeError(w, r, http.StatusInternalServerError, err)
		return
	}
	h := w.Header()
	h.Set("X-File-Store", "chunked")
	if m.Name != "" && name == "" {
		name = m.Name
	}
	ctype := m.Mime
	if ctype == "" {
		ctype = mime.TypeByExtension(strings.ToLower(path.Ext(name)))
	}
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	h.Set("Content-Type", ctype)
	if name != "" {
		h.Set("Content-Disposition", mime.FormatMediaType("inline", map[string]string{"filename": name}))
	}
	cr := &chunkReader{ctx: r.Context(), c: s.client, m: m, local: s.localChunk}
	if r.Header.Get("Range") == "" && r.Method == http.MethodGet {
		// The whole file goes out in order: fetch the next chunks while
		// this one streams.
		cr.ahead = chunkReadAhead
	}
	defer cr.Close()
	if r.Method == http.MethodGet && !conditional(r.Header) {
		// The whole file, as ServeContent would send it, but each chunk
		// in one write from where it was read instead of 32 KiB copies.
		h.Set("Accept-Ranges", "bytes")
		if !modTime.IsZero() {
			h.Set("Last-Modified", modTime.UTC().Format(http.TimeFormat))
		}
		h.Set("Content-Length", strconv.FormatInt(m.Size, 10))
		w.WriteHeader(http.StatusOK)
		if _, err := cr.WriteTo(w); err != nil {
			s.log.Warn("chunked read cut short", "err", err)
		}
		return
	}
	http.ServeContent(w, r, "", modTime, cr)
}
