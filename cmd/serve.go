package cmd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// newLogger returns a text logger on stderr at the level -v names
// (debug, info, warn, error, or 0-3 as more verbose numbers).
func newLogger(env *Env, level string) (*slog.Logger, error) {
	var l slog.Level
	switch strings.ToLower(level) {
	case "", "info", "1":
		l = slog.LevelInfo
	case "debug", "2", "3", "4":
		l = slog.LevelDebug
	case "warn", "warning", "0":
		l = slog.LevelWarn
	case "error":
		l = slog.LevelError
	default:
		return nil, fmt.Errorf("-v %q: want debug, info, warn or error", level)
	}
	return slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: l})), nil
}

// listen opens a TCP listener, turning "address in use" into a one-line
// error a user can act on.
func listen(bind string, port int) (net.Listener, error) {
	addr := net.JoinHostPort(bind, strconv.Itoa(port))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("cannot listen on %s: %w", addr, err)
	}
	return ln, nil
}

// Shutdown grace periods: how long requests in flight may finish after a
// stop. A master's Raft streams between peers are long-lived requests that
// never go idle, so it waits only a moment before closing them.
const (
	serverGrace = 15 * time.Second
	masterGrace = 2 * time.Second
)

// serve runs an HTTP server on ln until ctx ends, then shuts it down,
// letting requests in flight finish for up to grace before closing what
// is left.
func serve(ctx context.Context, ln net.Listener, h http.Handler, log *slog.Logger, grace time.Duration) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 30 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelDebug)}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		srv.Close()
		return err
	}
	return srv.Close()
}

// checkDir makes sure dir exists (creating it) and is writable.
func checkDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("data folder %s: %w", dir, err)
	}
	f, err := os.CreateTemp(dir, ".weed-write-check-*")
	if err != nil {
		return fmt.Errorf("data folder %s is not writable: %w", dir, err)
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// flagSet is the part of *flag.FlagSet the commands register flags with.
type flagSet interface {
	StringVar(p *string, name, value, usage string)
	IntVar(p *int, name string, value int, usage string)
	Int64Var(p *int64, name string, value int64, usage string)
	BoolVar(p *bool, name string, value bool, usage string)
	Float64Var(p *float64, name string, value float64, usage string)
}

// secondsOr converts a seconds flag, using def when it is not positive.
func secondsOr(n, def int) time.Duration {
	if n <= 0 {
		n = def
	}
	return time.Duration(n) * time.Second
}

// hostFlags are the flags every server command has: the address it
// advertises, the one it binds, and its log level.
type hostFlags struct {
	ip, bind, log string
}

// register adds -ip, -ip.bind and -v; what names the server in -ip's help.
func (h *hostFlags) register(fs flagSet, what string) {
	fs.StringVar(&h.ip, "ip", "127.0.0.1", "address "+what+" advertises")
	fs.StringVar(&h.bind, "ip.bind", "", "address to bind (default: -ip)")
	fs.StringVar(&h.log, "v", "info", "log level: debug, info, warn, error")
}

// bindAddr is -ip.bind, or -ip when it is not set.
func (h *hostFlags) bindAddr() string {
	if h.bind != "" {
		return h.bind
	}
	return h.ip
}
