package master

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"slices"

	"github.com/gorilla/mux"

	"weedfs.dev/weed/pb"
)

// proxiedHeader marks a request a follower forwarded, so a leader that
// has just stepped down answers 503 instead of forwarding it again.
const proxiedHeader = "X-Weed-Proxied-By"

func (s *Server) routes() http.Handler {
	r := mux.NewRouter()
	r.SkipClean(true) // fids never contain "..", and SeaweedFS paths are taken as sent
	r.PathPrefix(RaftPrefix).Handler(s.trans.Handler())
	r.Handle(pb.HeartbeatPath, http.HandlerFunc(s.handleHeartbeat))

	write := func(h func(http.ResponseWriter, *http.Request, *view)) http.Handler { return s.guard(s.onLeader(h)) }
	r.Handle("/dir/assign", write(s.handleAssign))
	r.HandleFunc("/dir/lookup", s.serveLookup)
	r.Handle("/dir/status", s.onLeader(s.handleDirStatus))
	r.Handle("/vol/grow", write(s.handleGrow))
	r.Handle("/vol/status", s.onLeader(s.handleVolStatus))
	r.Handle("/vol/vacuum", write(s.handleVacuum))
	r.Handle("/col/delete", write(s.handleDeleteCollection))
	r.Handle("/collection/info", s.onLeader(s.handleCollectionInfo))
	r.Handle("/submit", write(s.handleSubmit))
	r.Handle("/col/list", s.onLeader(s.handleCollectionList))
	r.Handle("/vol/mark", write(s.handleMark))
	r.Handle("/vol/fix.replication", write(s.handleFixReplication))
	r.Handle("/vol/balance", write(s.handleBalance))
	r.HandleFunc("/cluster/status", s.handleClusterStatus)
	r.HandleFunc("/cluster/healthz", s.handleClusterHealth)
	r.HandleFunc("/healthz", s.handleHealth)
	r.HandleFunc("/readyz", s.handleClusterHealth)
	r.PathPrefix("/").Handler(s.onLeaderOrLocal(s.handleRedirect))
	return r
}

// guard refuses callers outside the white list. A request a peer master
// forwarded was checked by that peer.
func (s *Server) guard(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.cfg.WhiteList.Allows(r.RemoteAddr) && !s.fromPeer(r) {
			writeError(w, r, errorf(http.StatusUnauthorized, "%s is not in the white list", r.RemoteAddr))
			return
		}
		h.ServeHTTP(w, r)
	})
}

// onLeader serves h on the leader and forwards the request to the leader
// on a follower.
func (s *Server) onLeader(h func(http.ResponseWriter, *http.Request, *view)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := s.view.Load()
		if v.self {
			if !v.ready {
				writeError(w, r, unavailable("master is warming up, topology is still loading"))
				return
			}
			h(w, r, v)
			return
		}
		s.forward(w, r, v, nil)
	})
}

// onLeaderOrLocal serves reads: the leader answers; a follower forwards
// to the leader and answers from its own view when no leader answers.
func (s *Server) onLeaderOrLocal(h func(http.ResponseWriter, *http.Request, *view)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := s.view.Load()
		if v.self {
			h(w, r, v)
			return
		}
		s.forward(w, r, v, func(w http.ResponseWriter, r *http.Request) { h(w, r, v) })
	})
}

type proxyKey struct{}

// proxyTarget travels in the request context to the reverse proxy.
type proxyTarget struct {
	addr     string
	fallback http.HandlerFunc // answers when the leader cannot be reached; nil: 503
}

func (s *Server) forward(w http.ResponseWriter, r *http.Request, v *view, fallback http.HandlerFunc) {
	if v.leaderAddr == "" || v.leaderAddr == s.self || r.Header.Get(proxiedHeader) != "" {
		if fallback != nil {
			fallback(w, r)
			return
		}
		writeError(w, r, unavailable("no leader: %v", ErrNoLeader))
		return
	}
	ctx := context.WithValue(r.Context(), proxyKey{}, proxyTarget{addr: v.leaderAddr, fallback: fallback})
	s.proxy.ServeHTTP(w, r.WithContext(ctx))
}

func (s *Server) newProxy() *httputil.ReverseProxy {
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			t, _ := pr.In.Context().Value(proxyKey{}).(proxyTarget)
			pr.SetURL(&url.URL{Scheme: "http", Host: t.addr})
			pr.Out.Host = pr.In.Host
			pr.Out.Header.Set(proxiedHeader, s.self)
			pr.SetXForwarded()
		},
		Transport:      s.http.Transport,
		ModifyResponse: s.remember,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			t, _ := r.Context().Value(proxyKey{}).(proxyTarget)
			if t.fallback != nil && !errors.Is(r.Context().Err(), context.Canceled) {
				t.fallback(w, r)
				return
			}
			s.log.Debug("forwarding to the leader failed", "leader", t.addr, "path", r.URL.Path, "err", err)
			writeError(w, r, unavailable("leader %s unreachable: %v", t.addr, err))
		},
	}
}

// fromPeer reports whether r was forwarded by another master of the group:
// it names a member and comes from that member's host.
func (s *Server) fromPeer(r *http.Request) bool {
	by := r.Header.Get(proxiedHeader)
	if by == "" || by == s.self || !slices.Contains(s.members, by) {
		return false
	}
	peerHost, _, err := net.SplitHostPort(by)
	if err != nil {
		return false
	}
	remoteHost, _, err := net.SplitHostPort(r.RemoteAddr)
	return err == nil && peerHost == remoteHost
}
