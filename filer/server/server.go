package server

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"

	"weedfs.dev/weed/client"
	"weedfs.dev/weed/filer"
)

// Defaults of Config.
const (
	// DefaultDirListLimit is SeaweedFS's -dirListLimit.
	DefaultDirListLimit = 100000
	eventsPath          = "/internal/events"
)

// Config configures a Server.
type Config struct {
	Filer *filer.Filer
	// DirListLimit is the default and largest listing page (100000).
	DirListLimit int
	// RecursiveDelete makes DELETE recursive unless recursive=false
	// (filer.toml's filer.options.recursive_delete).
	RecursiveDelete bool
	// Version is shown in listings.
	Version string
	// Masters are the masters this filer's chunks are assigned by, told
	// to mounts that were given none (GET /internal/mount/config).
	Masters []string
	Logger  *slog.Logger
}

// Server serves one filer over HTTP.
type Server struct {
	cfg Config
	f   *filer.Filer
	log *slog.Logger
	// stop ends the change-feed streams when the server shuts down.
	stop   chan struct{}
	closed bool
	// listBufs recycles the buffers JSON listing pages are built in (a
	// page of 1000 entries is about half a MiB).
	listBufs sync.Pool
}

// New returns a server for cfg.Filer.
func New(cfg Config) *Server {
	if cfg.DirListLimit <= 0 {
		cfg.DirListLimit = DefaultDirListLimit
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Version == "" {
		cfg.Version = "30GB weed"
	}
	return &Server{cfg: cfg, f: cfg.Filer, log: cfg.Logger, stop: make(chan struct{})}
}

// Close ends the change-feed streams in progress (http.Server.Shutdown
// does not wait for them otherwise). Call it once.
func (s *Server) Close() {
	if !s.closed {
		s.closed = true
		close(s.stop)
	}
}

// Handler routes every request.
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if s.serveMount(w, r) {
		return
	}
	if r.URL.Path == eventsPath {
		s.handleEvents(w, r)
		return
	}
	if r.URL.Path == "/healthz" && r.Method == http.MethodGet {
		w.WriteHeader(http.StatusOK)
		return
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		s.handleRead(w, r)
	case http.MethodPost, http.MethodPut:
		s.handleWrite(w, r)
	case http.MethodDelete:
		s.handleDelete(w, r)
	default:
		w.Header().Set("Allow", "GET, HEAD, POST, PUT, DELETE")
		writeError(w, http.StatusMethodNotAllowed, errors.New("method "+r.Method+" is not allowed"))
	}
}

// writeJSON answers status with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"encode reply"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
	w.Write([]byte("\n"))
}

func writeError(w http.ResponseWriter, status int, err error) {
	writeJSON(w, status, map[string]string{"error": err.Error()})
}

// statusClientClosed is nginx's and SeaweedFS's code for a client that
// went away before the answer.
const statusClientClosed = 499

// fail maps a filer error to a status and answers it.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	status := http.StatusInternalServerError
	switch {
	case errors.Is(err, filer.ErrBadPath), errors.Is(err, filer.ErrMD5Mismatch),
		errors.Is(err, filer.ErrBadRename), errors.Is(err, errBadRequest):
		status = http.StatusBadRequest
	case errors.Is(err, filer.ErrNotFound):
		status = http.StatusNotFound
	case errors.Is(err, filer.ErrConflict):
		status = http.StatusConflict
	case errors.Is(err, filer.ErrUnavailable), errors.Is(err, client.ErrNoMaster),
		client.StatusCode(err) == http.StatusServiceUnavailable:
		// The store, or the master that assigns chunks, is away or not
		// ready (no leader, warming up): the client may retry.
		status = http.StatusServiceUnavailable
	case r.Context().Err() != nil:
		status = statusClientClosed
	}
	if status >= 500 {
		s.log.Warn("request failed", "method", r.Method, "path", r.URL.Path, "status", status, "err", err)
	} else {
		s.log.Debug("request refused", "method", r.Method, "path", r.URL.Path, "status", status, "err", err)
	}
	writeError(w, status, err)
}

// errBadRequest marks a malformed query or header.
var errBadRequest = errors.New("bad request")

// requestPath normalises the URL path; trailing reports a final '/'.
func requestPath(r *http.Request) (p string, trailing bool, err error) {
	raw := r.URL.Path
	p, err = filer.NormalizePath(raw)
	return p, len(raw) > 1 && strings.HasSuffix(raw, "/"), err
}
