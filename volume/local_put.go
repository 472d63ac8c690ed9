package volume

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path"

	"weedfs.dev/weed/client/localput"
	"weedfs.dev/weed/security"
	"weedfs.dev/weed/storage"
	"weedfs.dev/weed/storage/needle"
)

// localPut stores one same-host upload as handleWrite stores the raw PUT
// of the same bytes: the same checks (token, white list, volume here,
// server not stopping, size limit) and the same needle (named by the fid
// unless a name is given, mime kept as a PUT keeps it, compressed when a
// PUT would be).
func (s *Server) localPut(ctx context.Context, m *localput.Mapping, p localput.Put) localput.Reply {
	fail := func(status int, err error) localput.Reply {
		return localput.Reply{Status: uint16(status), Error: err.Error()}
	}
	t, err := parseTarget("/" + p.Fid)
	if err != nil {
		return fail(http.StatusBadRequest, err)
	}
	if s.cfg.Security.Write.Enabled() {
		if err := security.Verify(s.cfg.Security.Write, p.JWT, t.fidText, s.now()); err != nil {
			return fail(http.StatusUnauthorized, security.ErrWrongJWT)
		}
	}
	// The peer is on this host: it passes the white list when a loopback
	// HTTP client would.
	if !s.cfg.WhiteList.Allows("127.0.0.1") {
		return fail(http.StatusUnauthorized, errors.New("not in the white list"))
	}
	vol, err := s.store.Volume(t.fid.VolumeID)
	if err != nil {
		return fail(http.StatusNotFound, fmt.Errorf("volume %d not found on this server", t.fid.VolumeID))
	}
	if vol.SuperBlock().Placement.CopyCount() > 1 {
		return fail(localput.StatusUseHTTP, fmt.Errorf("volume %d is replicated: PUT it", t.fid.VolumeID))
	}
	s.changes.RLock()
	defer s.changes.RUnlock()
	if s.stopping.Load() {
		return fail(http.StatusServiceUnavailable, errors.New("volume server is stopping"))
	}
	if int64(p.Length) > s.cfg.FileSizeLimit {
		return fail(http.StatusBadRequest, fmt.Errorf("%w: file over the limited %d bytes", errTooLarge, s.cfg.FileSizeLimit))
	}
	data, err := m.Slice(p.Offset, p.Length)
	if err != nil {
		return fail(http.StatusBadRequest, err)
	}
	u, err := s.localUpload(t, p, data)
	if err != nil {
		return fail(http.StatusBadRequest, err)
	}
	// The checksum is end to end: a client that gives one computed it over
	// the bytes it meant to send, as it filled its buffer, and it is stored
	// as given instead of reading the mapping once more (cold in this
	// core's cache, that read cost more than the copy into the page
	// cache). A client that changed its bytes afterwards or gave a wrong
	// CRC spoils only this needle, its own: every read of it fails its
	// check. Without one (or when the data was compressed) the server
	// computes it as the needle is written.
	res, err := vol.Write(ctx, u.needle(t.fid.Key, t.fid.Cookie), storage.WriteOptions{Fsync: u.fsync || s.cfg.Fsync, DataCRC: u.crc})
	if err != nil {
		return fail(writeStatus(err), err)
	}
	s.localPuts.Add(1)
	etag := needle.ETag(res.Checksum)
	if res.Unchanged {
		return localput.Reply{Status: http.StatusNoContent, ETag: etag}
	}
	return localput.Reply{Status: http.StatusCreated, Size: uint32(u.originalSize), ETag: etag, Name: u.name, Mime: u.mime}
}

// localUpload is the upload a raw PUT of data to t with p's options is
// (parseUploadInto's raw path).
func (s *Server) localUpload(t target, p localput.Put, data []byte) (*upload, error) {
	u := &upload{data: data, originalSize: len(data), name: p.Name, fsync: p.Fsync}
	if p.HasCRC {
		crc := p.CRC
		u.crc = &crc // maybeCompress drops it: it is of the bytes before
	}
	var err error
	if u.ttl, err = needle.ParseTTL(p.TTL); err != nil {
		return nil, err
	}
	u.lastModified = p.Timestamp
	if u.lastModified == 0 {
		u.lastModified = uint64(s.now().Unix())
	}
	if u.name == "" {
		u.name = path.Base("/" + p.Fid)
	}
	u.mime = storedMime(u.name, p.Mime)
	if len(u.name) > needle.MaxNameLen {
		u.name = u.name[:needle.MaxNameLen]
	}
	if len(u.mime) > needle.MaxNameLen {
		return nil, fmt.Errorf("mime type longer than %d bytes", needle.MaxNameLen)
	}
	u.maybeCompress()
	return u, nil
}

func isEOF(err error) bool { return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) }
