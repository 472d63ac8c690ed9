package server

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"google.golang.org/protobuf/proto"

	"weedfs.dev/weed/filer"
	"weedfs.dev/weed/pb"
)

// The mount's endpoints, under MountPrefix. Bodies are protobuf, so an
// entry keeps its chunk list, attributes and extended attributes exactly:
//
//	GET    entry?path=P                        -> pb.Entry (full_path set), 404 when missing
//	PUT    entry[?nosync=true][&signature=S]  body pb.Entry -> 204: SaveEntry (create or replace, parents made)
//	DELETE entry?path=P[&recursive=true][&signature=S]     -> 204
//	POST   rename?from=A&to=B[&signature=S]                -> 204
//	GET    list?path=D[&start=N&limit=L]       -> uvarint-length-framed pb.Entry, name order
//	GET    config                              -> JSON {"masters": ["host:port", ...]}
//
// A save with nosync=true is answered once the filer applied it (every
// client sees it), maybe before it is on stable storage (filer.NoSync):
// what close(2) promises. Without it the store commit is synced: fsync(2).
//
// A write with signature=S (a non-zero int32, SignatureParam) records S
// in the signatures of the events of its changes; a mount following
// /internal/events?signature=S then does not get them back.
//
// Errors are {"error": "...", "code": "..."} where code names the filer
// error (not_found, conflict, not_empty, bad_rename, bad_path,
// unavailable), so the mount can map it to an errno.
const (
	MountPrefix = "/internal/mount/"
	// MountNoSync is the query parameter of an unsynced save.
	MountNoSync = "nosync"
	// MountConfig is the operation that tells a mount the filer's setup.
	MountConfig = "config"
	// EntryContentType is the media type of a protobuf pb.Entry body.
	EntryContentType = "application/x-weed-entry"
	// maxEntryBody bounds a PUT body (an entry with a long chunk list).
	maxEntryBody = 64 << 20
	// maxMountList bounds one listing page.
	maxMountList = 100000
)

// MountConfigReply is the JSON answer of GET MountPrefix+MountConfig.
type MountConfigReply struct {
	// Masters assign the chunks of this filer's files.
	Masters []string `json:"masters"`
}

// serveMount answers a request under MountPrefix and reports whether it did.
func (s *Server) serveMount(w http.ResponseWriter, r *http.Request) bool {
	if !strings.HasPrefix(r.URL.Path, MountPrefix) {
		return false
	}
	op := r.URL.Path[len(MountPrefix):]
	if op == "entry" && r.Method != http.MethodGet || op == "rename" {
		q := r.URL.Query()
		if v := q.Get(SignatureParam); v != "" {
			sig, err := parseSignature(v)
			if err != nil {
				s.mountFail(w, r, err)
				return true
			}
			r = r.WithContext(filer.WithSignature(r.Context(), sig))
		}
	}
	switch {
	case op == "entry" && r.Method == http.MethodGet:
		s.mountFind(w, r)
	case op == "entry" && r.Method == http.MethodPut:
		s.mountSave(w, r)
	case op == "entry" && r.Method == http.MethodDelete:
		s.mountDelete(w, r)
	case op == "rename" && r.Method == http.MethodPost:
		s.mountRename(w, r)
	case op == "list" && r.Method == http.MethodGet:
		s.mountList(w, r)
	case op == MountConfig && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, MountConfigReply{Masters: s.cfg.Masters})
	default:
		writeError(w, http.StatusNotFound, fmt.Errorf("no mount operation %s %s", r.Method, r.URL.Path))
	}
	return true
}

// MountErrorCode names a filer error for the mount's error replies.
func MountErrorCode(err error) (status int, code string) {
	switch {
	case errors.Is(err, filer.ErrNotFound):
		return http.StatusNotFound, "not_found"
	case errors.Is(err, filer.ErrNotEmpty):
		return http.StatusConflict, "not_empty"
	case errors.Is(err, filer.ErrConflict):
		return http.StatusConflict, "conflict"
	case errors.Is(err, filer.ErrBadRename):
		return http.StatusBadRequest, "bad_rename"
	case errors.Is(err, filer.ErrBadPath), errors.Is(err, errBadRequest):
		return http.StatusBadRequest, "bad_path"
	case errors.Is(err, filer.ErrUnavailable):
		return http.StatusServiceUnavailable, "unavailable"
	}
	return http.StatusInternalServerError, "internal"
}

func (s *Server) mountFail(w http.ResponseWriter, r *http.Request, err error) {
	status, code := MountErrorCode(err)
	if status >= 500 {
		s.log.Warn("mount request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	writeJSON(w, status, map[string]string{"error": err.Error(), "code": code})
}

func (s *Server) mountFind(w http.ResponseWriter, r *http.Request) {
	e, err := s.f.FindEntry(r.Context(), r.URL.Query().Get("path"))
	if err != nil {
		s.mountFail(w, r, err)
		return
	}
	b, err := proto.Marshal(filer.ToPB(e))
	if err != nil {
		s.mountFail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", EntryContentType)
	w.Write(b)
}

func (s *Server) mountSave(w http.ResponseWriter, r *http.Request) {
	b, err := readEntryBody(r)
	if err != nil {
		s.mountFail(w, r, err)
		return
	}
	var m pb.Entry
	if err := proto.Unmarshal(b, &m); err != nil {
		s.mountFail(w, r, fmt.Errorf("%w: decode entry: %v", errBadRequest, err))
		return
	}
	e := filer.FromPB(&m)
	ctx := r.Context()
	if r.URL.Query().Get(MountNoSync) == "true" {
		ctx = filer.NoSync(ctx)
	}
	if err := s.f.SaveEntry(ctx, e); err != nil {
		s.mountFail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// readEntryBody reads a PUT entry body of at most maxEntryBody bytes, in
// one buffer of its Content-Length when the client sent one (a growing
// buffer cost more than the entry's own decoding).
func readEntryBody(r *http.Request) ([]byte, error) {
	if n := r.ContentLength; n >= 0 && n <= maxEntryBody {
		b := make([]byte, n)
		if _, err := io.ReadFull(r.Body, b); err != nil {
			return nil, fmt.Errorf("%w: read entry: %v", errBadRequest, err)
		}
		return b, nil
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, maxEntryBody+1))
	if err != nil {
		return nil, fmt.Errorf("%w: read entry: %v", errBadRequest, err)
	}
	if len(b) > maxEntryBody {
		return nil, fmt.Errorf("%w: entry over %d bytes", errBadRequest, maxEntryBody)
	}
	return b, nil
}

func (s *Server) mountDelete(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p, err := filer.NormalizePath(q.Get("path"))
	if err != nil {
		s.mountFail(w, r, err)
		return
	}
	if p == "/" {
		s.mountFail(w, r, fmt.Errorf("%w: the root cannot be deleted", filer.ErrBadRename))
		return
	}
	if err := s.f.DeleteEntry(r.Context(), p, filer.DeleteOptions{Recursive: q.Get("recursive") == "true"}); err != nil {
		s.mountFail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) mountRename(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if _, err := s.f.Rename(r.Context(), q.Get("from"), q.Get("to")); err != nil {
		s.mountFail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) mountList(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit := maxMountList
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n <= 0 {
			s.mountFail(w, r, fmt.Errorf("%w: limit %q", errBadRequest, l))
			return
		}
		limit = min(n, maxMountList)
	}
	var page []*filer.Entry
	_, err := s.f.List(r.Context(), q.Get("path"), filer.ListOptions{StartName: q.Get("start"), Limit: limit}, func(e *filer.Entry) bool {
		page = append(page, e)
		return true
	})
	if err != nil {
		s.mountFail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", EntryContentType)
	bw := bufio.NewWriterSize(w, 64<<10)
	var lenBuf [binary.MaxVarintLen64]byte
	for _, e := range page {
		b, err := proto.Marshal(filer.ToPB(e))
		if err != nil {
			s.log.Warn("mount list: encode entry", "path", e.FullPath, "err", err)
			return
		}
		n := binary.PutUvarint(lenBuf[:], uint64(len(b)))
		bw.Write(lenBuf[:n])
		bw.Write(b)
	}
	bw.Flush()
}
