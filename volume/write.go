package volume

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"weedfs.dev/weed/security"
	"weedfs.dev/weed/storage"
	"weedfs.dev/weed/storage/needle"
)

// uploadReply is SeaweedFS's UploadResult JSON.
type uploadReply struct {
	Name string `json:"name,omitempty"`
	Size int    `json:"size,omitempty"`
	ETag string `json:"eTag,omitempty"`
	Mime string `json:"mime,omitempty"`
}

// beginChange checks what writes and deletes share: the server is not
// stopping, the path names a fid, the token grants it, and the volume is
// here. On success the caller must call done when the change is over, so a
// graceful stop can wait for it.
func (s *Server) beginChange(w http.ResponseWriter, r *http.Request) (t target, vol *storage.Volume, done func(), ok bool) {
	t, err := parseTarget(r.URL.Path)
	if err != nil {
		writeError(w, r, http.StatusBadRequest, err)
		return t, nil, nil, false
	}
	// Only a signing key makes the token worth finding (it parses the
	// query and the cookies).
	if s.cfg.Security.Write.Enabled() {
		if err := security.Verify(s.cfg.Security.Write, security.TokenFromRequest(r), t.fidText, s.now()); err != nil {
			writeError(w, r, http.StatusUnauthorized, security.ErrWrongJWT)
			return t, nil, nil, false
		}
	}
	if vol, err = s.store.Volume(t.fid.VolumeID); err != nil {
		writeError(w, r, http.StatusNotFound, fmt.Errorf("volume %d not found on this server", t.fid.VolumeID))
		return t, nil, nil, false
	}
	s.changes.RLock()
	if s.stopping.Load() {
		s.changes.RUnlock()
		writeError(w, r, http.StatusServiceUnavailable, errors.New("volume server is stopping"))
		return t, nil, nil, false
	}
	return t, vol, s.changes.RUnlock, true
}

func (s *Server) handleWrite(w http.ResponseWriter, r *http.Request) {
	t, vol, done, ok := s.beginChange(w, r)
	if !ok {
		return
	}
	defer done()
	hint := 0
	if cl := r.ContentLength; cl > 0 && cl <= s.cfg.FileSizeLimit+formOverhead {
		hint = int(cl) + copyAlign // room to place the data, see align.go
	}
	buf := s.bodies.get(hint)
	defer s.bodies.put(buf) // the needle's bytes may live in buf until here
	u, err := parseUploadInto(r, s.cfg.FileSizeLimit, s.now(), buf, vol.NextDataOffset())
	if err != nil {
		writeError(w, r, http.StatusBadRequest, err)
		return
	}
	n := u.needle(t.fid.Key, t.fid.Cookie)
	res, err := vol.Write(r.Context(), n, storage.WriteOptions{Fsync: u.fsync || s.cfg.Fsync, DataCRC: u.crc})
	if err != nil {
		writeError(w, r, writeStatus(err), err)
		return
	}
	// A write reaches every replica before it is acknowledged. An unchanged
	// local copy is still sent on: the earlier attempt may have failed on a
	// replica, and this retry is how the client completes it.
	if !u.replicate {
		if err := s.replicateWrite(r, t, vol, u); err != nil {
			s.log.Warn("replication failed", "fid", t.fidText, "err", err)
			writeError(w, r, http.StatusInternalServerError, err)
			return
		}
	}
	etag := needle.ETag(res.Checksum)
	w.Header().Set("ETag", `"`+etag+`"`)
	if res.Unchanged {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if u.contentMD5 != "" {
		w.Header().Set("Content-MD5", u.contentMD5)
	}
	reply := uploadReply{Name: u.name, Size: u.originalSize, ETag: etag, Mime: u.mime}
	if r.URL.RawQuery != "" && r.URL.Query().Get("pretty") != "" {
		writeJSON(w, r, http.StatusCreated, reply)
		return
	}
	writeJSONBytes(w, http.StatusCreated, reply.appendJSON(make([]byte, 0, 128)))
}

// appendJSON appends the reply as encoding/json writes it, without
// reflection: this is every upload's answer.
func (u uploadReply) appendJSON(b []byte) []byte {
	b = append(b, '{')
	sep := func() {
		if len(b) > 1 {
			b = append(b, ',')
		}
	}
	if u.Name != "" {
		b = appendJSONString(append(b, `"name":`...), u.Name)
	}
	if u.Size != 0 {
		sep()
		b = strconv.AppendInt(append(b, `"size":`...), int64(u.Size), 10)
	}
	if u.ETag != "" {
		sep()
		b = appendJSONString(append(b, `"eTag":`...), u.ETag)
	}
	if u.Mime != "" {
		sep()
		b = appendJSONString(append(b, `"mime":`...), u.Mime)
	}
	return append(b, '}')
}

// writeStatus maps a store error to the HTTP status SeaweedFS clients
// expect: 500 for a cookie clash (as SeaweedFS), 503 for a volume that
// cannot take writes now (the client asks the master for another).
func writeStatus(err error) int {
	switch {
	case errors.Is(err, storage.ErrReadOnly), errors.Is(err, storage.ErrVolumeFull), errors.Is(err, storage.ErrClosed):
		return http.StatusServiceUnavailable
	case errors.Is(err, storage.ErrVolumeNotFound):
		return http.StatusNotFound
	}
	return http.StatusInternalServerError
}

// deleteReply is SeaweedFS's delete answer.
type deleteReply struct {
	Size int64 `json:"size"`
}

func (s *Server) handleDelete(w http.ResponseWriter, r *http.Request) {
	t, vol, done, ok := s.beginChange(w, r)
	if !ok {
		return
	}
	defer done()
	replicate := r.URL.Query().Get("type") == "replicate"
	// Read first: the cookie must match, and a manifest's chunks go first.
	// The metadata is enough for that (a 4 MiB chunk's data is not read
	// just to be deleted); only a manifest's data is needed.
	n, _, err := vol.ReadMeta(r.Context(), t.fid.Key, t.fid.Cookie, storage.ReadOptions{})
	if err == nil && n.IsChunkManifest() && !replicate {
		n, err = vol.Read(r.Context(), t.fid.Key, t.fid.Cookie, storage.ReadOptions{})
	}
	switch {
	case errors.Is(err, storage.ErrCookieMismatch):
		writeError(w, r, http.StatusBadRequest, errors.New("File Random Cookie does not match."))
		return
	case errors.Is(err, storage.ErrNotFound), errors.Is(err, storage.ErrDeleted):
		if !replicate {
			// A replica may still hold it after an earlier, half-done delete.
			_ = s.replicateDelete(r, t, vol)
		}
		writeJSON(w, r, http.StatusNotFound, deleteReply{})
		return
	case err != nil:
		writeError(w, r, http.StatusInternalServerError, err)
		return
	}
	size := int64(n.Size)
	if n.IsChunkManifest() && !replicate {
		if size, err = s.deleteChunks(r, n); err != nil {
			writeError(w, r, http.StatusInternalServerError, err)
			return
		}
	}
	if _, err := vol.Delete(r.Context(), t.fid.Key, t.fid.Cookie, storage.DeleteOptions{Fsync: s.cfg.Fsync}); err != nil &&
		!errors.Is(err, storage.ErrNotFound) && !errors.Is(err, storage.ErrDeleted) {
		writeError(w, r, writeStatus(err), err)
		return
	}
	if !replicate {
		if err := s.replicateDelete(r, t, vol); err != nil {
			writeError(w, r, http.StatusInternalServerError, err)
			return
		}
	}
	writeJSON(w, r, http.StatusAccepted, deleteReply{Size: size})
}
