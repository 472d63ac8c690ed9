package volume

import (
	"errors"
	"io"
	"net/http"
	"net/url"
)

// Read modes for a blob whose volume is not on this server, as SeaweedFS's
// -readMode: proxy fetches it from a server that has it, redirect sends the
// client there (301), local answers 404.
const (
	ReadModeProxy    = "proxy"
	ReadModeRedirect = "redirect"
	ReadModeLocal    = "local"
)

// proxiedParam marks a request one volume server sent another, so it is
// never sent on again (no loops between servers that disagree).
const proxiedParam = "proxied"

// forwardedHeaders are the request headers a proxied read passes on.
var forwardedHeaders = []string{"Range", "If-None-Match", "If-Modified-Since", "Accept-Encoding", "Authorization", "Cookie"}

// readElsewhere serves a read of volume vid from another server, by the
// configured read mode. It reports false when it answered nothing (the
// caller answers 404).
func (s *Server) readElsewhere(w http.ResponseWriter, r *http.Request, vid uint32) bool {
	mode := s.cfg.ReadMode
	q := r.URL.Query()
	if mode == ReadModeLocal || q.Get(proxiedParam) == "true" || len(s.cfg.Masters) == 0 {
		return false
	}
	locs, err := s.client.Lookup(r.Context(), vid)
	if err != nil {
		return false
	}
	var target string
	for _, l := range locs {
		if l.URL != s.cfg.addr() && l.URL != s.cfg.PublicURL {
			target = l.URL
			if mode == ReadModeRedirect {
				target = l.PublicURL
			}
			break
		}
	}
	if target == "" {
		return false
	}
	q.Set(proxiedParam, "true")
	u := (&url.URL{Scheme: "http", Host: target, Path: r.URL.Path, RawQuery: q.Encode()}).String()
	if mode == ReadModeRedirect {
		http.Redirect(w, r, u, http.StatusMovedPermanently)
		return true
	}
	req, err := http.NewRequestWithContext(r.Context(), r.Method, u, nil)
	if err != nil {
		return false
	}
	for _, h := range forwardedHeaders {
		if v := r.Header.Get(h); v != "" {
			req.Header.Set(h, v)
		}
	}
	resp, err := s.client.HTTP().Do(req)
	if err != nil {
		s.client.Invalidate(vid)
		writeError(w, r, http.StatusBadGateway, errors.New("the server holding this volume did not answer"))
		return true
	}
	defer resp.Body.Close()
	for k, vs := range resp.Header {
		if k == "Server" {
			continue
		}
		w.Header()[k] = vs
	}
	w.WriteHeader(resp.StatusCode)
	io.Copy(w, resp.Body)
	return true
}
