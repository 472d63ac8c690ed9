package volume

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"weedfs.dev/weed/client"
	"weedfs.dev/weed/pb"
	"weedfs.dev/weed/security"
	"weedfs.dev/weed/storage"
)

// Config is what a volume server needs to know about itself and its cluster.
type Config struct {
	IP               string // advertised address
	Port             int
	PublicURL        string   // host:port clients read from; default IP:Port
	Masters          []string // host:port of every master
	DataCenter, Rack string
	// FileSizeLimit is the largest upload body in bytes (SeaweedFS's
	// -fileSizeLimitMB, 256 MiB by default).
	FileSizeLimit int64
	// Fsync makes every write durable before it is acknowledged.
	Fsync bool
	// ReadMode is what a read of a volume held elsewhere gets:
	// ReadModeProxy (the default), ReadModeRedirect or ReadModeLocal.
	ReadMode          string
	Security          security.Config
	WhiteList         *security.WhiteList
	HeartbeatInterval time.Duration
	Version           string // reported in /status and the Server header
	Logger            *slog.Logger
	HTTP              *http.Client // for replication and master calls; nil: a default
}

// Server serves one store over HTTP.
type Server struct {
	cfg    Config
	store  *storage.Store
	client *client.Client
	log    *slog.Logger
	now    func() time.Time

	stopping atomic.Bool
	// changes is held shared by every write, delete and admin call in
	// progress; Stop takes it exclusively, so it returns once they are done.
	changes sync.RWMutex

	hb heartbeatState

	bodies bufferPool // upload bodies, reused between requests

	// localPath is the same-host upload socket while ServeLocal serves it.
	localPath atomic.Pointer[string]
	// localPuts counts needles stored through it.
	localPuts atomic.Uint64
}

// New returns a server over store; Run starts its heartbeats.
func New(cfg Config, store *storage.Store) *Server {
	if cfg.FileSizeLimit == 0 {
		cfg.FileSizeLimit = 256 << 20
	}
	if cfg.ReadMode == "" {
		cfg.ReadMode = ReadModeProxy
	}
	if cfg.HeartbeatInterval <= 0 {
		cfg.HeartbeatInterval = 5 * time.Second
	}
	if cfg.PublicURL == "" {
		cfg.PublicURL = cfg.addr()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		cfg:    cfg,
		store:  store,
		client: client.New(cfg.Masters, client.Options{HTTP: cfg.HTTP, CacheTTL: 30 * time.Second}),
		log:    cfg.Logger,
		now:    time.Now,
	}
	s.hb.init()
	return s
}

func (c Config) addr() string { return c.IP + ":" + strconv.Itoa(c.Port) }

// Handler routes every request of the volume server.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/status", s.handleStatus)
	mux.HandleFunc("/healthz", s.handleHealthz)
	mux.Handle(pb.AdminPrefix, s.guard(http.HandlerFunc(s.handleAdmin)))
	mux.Handle(localRoute, s.guard(http.HandlerFunc(s.handleLocal)))
	mux.HandleFunc("/", s.handleBlob)
	return s.withServerHeader(mux)
}

func (s *Server) withServerHeader(h http.Handler) http.Handler {
	name := "weed Volume " + s.cfg.Version
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Server", name)
		if origin := r.Header.Get("Origin"); origin != "" {
			w.Header().Set("Access-Control-Allow-Origin", "*")
			w.Header().Set("Access-Control-Expose-Headers", "*")
		}
		h.ServeHTTP(w, r)
	})
}

// guard refuses callers outside the white list.
func (s *Server) guard(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.cfg.WhiteList.Allows(r.RemoteAddr) {
			writeError(w, r, http.StatusUnauthorized, errors.New("not in the white list"))
			return
		}
		h.ServeHTTP(w, r)
	})
}

func (s *Server) handleBlob(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		s.handleRead(w, r)
	case http.MethodPost, http.MethodPut:
		if !s.cfg.WhiteList.Allows(r.RemoteAddr) {
			writeError(w, r, http.StatusUnauthorized, errors.New("not in the white list"))
			return
		}
		s.handleWrite(w, r)
	case http.MethodDelete:
		if !s.cfg.WhiteList.Allows(r.RemoteAddr) {
			writeError(w, r, http.StatusUnauthorized, errors.New("not in the white list"))
			return
		}
		s.handleDelete(w, r)
	case http.MethodOptions:
		w.Header().Set("Allow", "GET, HEAD, POST, PUT, DELETE, OPTIONS")
		w.WriteHeader(http.StatusOK)
	default:
		writeError(w, r, http.StatusMethodNotAllowed, errors.New("method not allowed"))
	}
}

func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	if s.stopping.Load() {
		writeError(w, r, http.StatusServiceUnavailable, errors.New("stopping"))
		return
	}
	if len(s.cfg.Masters) > 0 && !s.hb.connected() {
		writeError(w, r, http.StatusServiceUnavailable, errors.New("not heartbeating to a master"))
		return
	}
	w.WriteHeader(http.StatusOK)
}

// Stop refuses new writes, deletes and admin calls and waits for those in
// flight; the caller then closes the store (which syncs it).
func (s *Server) Stop() {
	s.changes.Lock()
	s.stopping.Store(true)
	s.changes.Unlock()
}

// writeJSON answers v as JSON, indented when ?pretty= is set.
func writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	var b []byte
	var err error
	if r != nil && r.URL.Query().Get("pretty") != "" {
		b, err = json.MarshalIndent(v, "", "  ")
	} else {
		b, err = json.Marshal(v)
	}
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"encode reply"}`)
	}
	writeJSONBytes(w, status, b)
}

// writeJSONBytes answers b, already JSON.
func writeJSONBytes(w http.ResponseWriter, status int, b []byte) {
	h := w.Header()
	h["Content-Type"] = []string{"application/json"}
	h["X-Content-Type-Options"] = []string{"nosniff"}
	w.WriteHeader(status)
	w.Write(b)
}

// writeError answers {"error": "..."} with status.
func writeError(w http.ResponseWriter, r *http.Request, status int, err error) {
	writeJSON(w, r, status, map[string]string{"error": err.Error()})
}
