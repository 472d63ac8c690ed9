package server

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"strconv"
	"strings"

	"weedfs.dev/weed/filer"
	"weedfs.dev/weed/storage/needle"
)

// maxChunkMB bounds maxMB, so one request cannot make the filer hold
// huge buffers.
const maxChunkMB = 256

func (s *Server) handleWrite(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if from := q.Get("mv.from"); from != "" {
		s.handleRename(w, r, from)
		return
	}
	p, trailing, err := requestPath(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ctype := r.Header.Get("Content-Type")
	if r.Method == http.MethodPost && trailing && ctype == "" {
		s.handleMkdir(w, r, p, q.Get("mode"))
		return
	}
	attrs, opts, err := s.writeOptions(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	body := io.Reader(r.Body)
	name := filer.Name(p)
	mt, params, _ := mime.ParseMediaType(ctype)
	if r.Method == http.MethodPost && mt == "multipart/form-data" {
		part, err := firstFilePart(r, params["boundary"])
		if err != nil {
			s.fail(w, r, err)
			return
		}
		defer part.Close()
		body = part
		if fn := part.FileName(); fn != "" {
			if trailing || p == "/" {
				if p, err = filer.NormalizePath(filer.Join(p, fn)); err != nil {
					s.fail(w, r, err)
					return
				}
			}
			name = fn
		}
		if pt := part.Header.Get("Content-Type"); pt != "" && pt != "application/octet-stream" {
			attrs.Mime = pt
		}
	} else if ctype != "" && ctype != "application/octet-stream" {
		attrs.Mime = ctype
	}
	var e *filer.Entry
	if q.Get("op") == "append" {
		e, err = s.f.Append(r.Context(), p, body, attrs, opts)
	} else {
		e, err = s.f.WriteFile(r.Context(), p, body, attrs, opts)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if len(e.Md5) > 0 {
		w.Header().Set("Content-MD5", base64.StdEncoding.EncodeToString(e.Md5))
	}
	writeJSON(w, http.StatusCreated, map[string]any{"name": name, "size": e.FileSize})
}

// firstFilePart returns the first part of a multipart body, streamed.
func firstFilePart(r *http.Request, boundary string) (*multipart.Part, error) {
	if boundary == "" {
		return nil, fmt.Errorf("%w: multipart body without boundary", errBadRequest)
	}
	mr := multipart.NewReader(r.Body, boundary)
	part, err := mr.NextPart()
	if err != nil {
		return nil, fmt.Errorf("%w: multipart body: %v", errBadRequest, err)
	}
	return part, nil
}

// writeOptions reads the query options and headers of a write.
func (s *Server) writeOptions(r *http.Request) (filer.FileAttrs, filer.WriteOptions, error) {
	q := r.URL.Query()
	var a filer.FileAttrs
	o := filer.WriteOptions{
		Collection:  q.Get("collection"),
		Replication: q.Get("replication"),
		TTL:         q.Get("ttl"),
		DataCenter:  q.Get("dataCenter"),
		Fsync:       q.Get("fsync") == "true",
		SaveInside:  q.Get("saveInside") != "false",
	}
	if o.TTL != "" {
		ttl, err := needle.ParseTTL(o.TTL)
		if err != nil {
			return a, o, fmt.Errorf("%w: ttl %q: %v", errBadRequest, o.TTL, err)
		}
		a.TTLSec = int32(ttl.Minutes()) * 60
	}
	if mb := q.Get("maxMB"); mb != "" {
		n, err := strconv.Atoi(mb)
		if err != nil || n <= 0 || n > maxChunkMB {
			return a, o, fmt.Errorf("%w: maxMB %q is not in 1..%d", errBadRequest, mb, maxChunkMB)
		}
		o.ChunkSize = int64(n) << 20
	}
	if m := q.Get("mode"); m != "" {
		n, err := strconv.ParseUint(m, 8, 32)
		if err != nil || n > 0o7777 {
			return a, o, fmt.Errorf("%w: mode %q is not octal permissions", errBadRequest, m)
		}
		a.Mode = os.FileMode(n) & os.ModePerm
	}
	if cm := r.Header.Get("Content-MD5"); cm != "" {
		sum, err := parseMD5(cm)
		if err != nil {
			return a, o, err
		}
		o.ContentMD5 = sum
	}
	for k, v := range r.Header {
		if strings.HasPrefix(k, extendedPrefix) && len(v) > 0 {
			if a.Extended == nil {
				a.Extended = map[string][]byte{}
			}
			a.Extended[k] = []byte(v[0])
		}
	}
	return a, o, nil
}

// parseMD5 accepts Content-MD5 in base64 (RFC 1864) or hex.
func parseMD5(s string) ([]byte, error) {
	if b, err := base64.StdEncoding.DecodeString(s); err == nil && len(b) == 16 {
		return b, nil
	}
	if b, err := hex.DecodeString(s); err == nil && len(b) == 16 {
		return b, nil
	}
	return nil, fmt.Errorf("%w: Content-MD5 %q is neither base64 nor hex of 16 bytes", errBadRequest, s)
}

func (s *Server) handleMkdir(w http.ResponseWriter, r *http.Request, p, mode string) {
	perm := os.FileMode(0)
	if mode != "" {
		n, err := strconv.ParseUint(mode, 8, 32)
		if err != nil || n > 0o7777 {
			s.fail(w, r, fmt.Errorf("%w: mode %q is not octal permissions", errBadRequest, mode))
			return
		}
		perm = os.FileMode(n) & os.ModePerm
	}
	e, err := s.f.Mkdir(r.Context(), p, perm)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]string{"name": e.Name()})
}

func (s *Server) handleRename(w http.ResponseWriter, r *http.Request, from string) {
	to, _, err := requestPath(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if _, err := s.f.Rename(r.Context(), from, to); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleDelete(w http.ResponseWriter, r *http.Request) {
	p, _, err := requestPath(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	q := r.URL.Query()
	o := filer.DeleteOptions{
		Recursive:            q.Get("recursive") == "true" || (s.cfg.RecursiveDelete && q.Get("recursive") != "false"),
		IgnoreRecursiveError: q.Get("ignoreRecursiveError") == "true",
		SkipChunkDeletion:    q.Get("skipChunkDeletion") == "true",
	}
	if err := s.f.DeleteEntry(r.Context(), p, o); err != nil {
		s.fail(w, r, fmt.Errorf("delete %s: %w", p, err))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
