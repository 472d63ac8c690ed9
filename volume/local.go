package volume

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"weedfs.dev/weed/client/localput"
	"weedfs.dev/weed/pb"
)

// Same-host uploads (client/localput): a client on this machine whose
// chunk buffers live in a sealed memfd passes it once per connection on
// a Unix socket, then names each chunk by offset and length; the needle
// is appended from the server's read-only mapping of it, so the bytes
// cross no socket.
//
// The socket is a file (mode 0600) in the first data folder: the file
// system's permissions say who may connect, the path is what a client is
// told, and the file goes with the server. A peer's user id (SO_PEERCRED)
// is checked too, as the file exists for a moment before its mode is set.
// Only unreplicated volumes are written here: a replicated volume's write
// is forwarded to its copies over HTTP anyway, and the client is told to
// PUT it (localput.StatusUseHTTP), so replication has one path.

// localRoute is where a client asks for the socket (GET).
const localRoute = pb.AdminPrefix + "local"

// localInfo is the answer of GET /admin/local.
type localInfo struct {
	Socket string `json:"socket"`
}

// LocalPath is the conventional socket path for a volume server on port
// port storing volumes in dir.
func LocalPath(dir string, port int) string {
	return fmt.Sprintf("%s/volume-%d.sock", dir, port)
}

// maxSocketPath is the longest path a Unix socket address holds.
const maxSocketPath = 107

// ServeLocal serves same-host uploads on a Unix socket at path until ctx
// ends; it then closes the socket and its connections (a write in
// progress completes first) and removes the file.
func (s *Server) ServeLocal(ctx context.Context, path string) error {
	if !localput.Supported {
		return errors.New("same-host uploads need Linux")
	}
	if len(path) > maxSocketPath {
		return fmt.Errorf("socket path %q is over %d bytes", path, maxSocketPath)
	}
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode()&fs.ModeSocket == 0 {
			return fmt.Errorf("%s exists and is not a socket", path)
		}
		os.Remove(path) // left by a server that did not stop cleanly
	}
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return fmt.Errorf("listen on %s: %w", path, err)
	}
	ln.SetUnlinkOnClose(true)
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return fmt.Errorf("chmod %s: %w", path, err)
	}
	s.localPath.Store(&path)
	defer s.localPath.Store(nil)

	var mu sync.Mutex
	conns := map[*net.UnixConn]struct{}{}
	var wg sync.WaitGroup
	stop := context.AfterFunc(ctx, func() {
		ln.Close()
		mu.Lock()
		for c := range conns {
			// Ends a connection waiting for its next frame; one in the
			// middle of a write finishes it and then fails its reply.
			c.CloseRead()
		}
		mu.Unlock()
	})
	defer stop()
	s.log.Info("same-host uploads", "socket", path)
	for {
		c, err := ln.AcceptUnix()
		if err != nil {
			wg.Wait()
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("accept on %s: %w", path, err)
		}
		mu.Lock()
		conns[c] = struct{}{}
		mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.serveLocalConn(ctx, c)
			mu.Lock()
			delete(conns, c)
			mu.Unlock()
			c.Close()
		}()
	}
}

// serveLocalConn answers one client: its Hello, then its Puts in turn.
func (s *Server) serveLocalConn(ctx context.Context, c *net.UnixConn) {
	var out []byte
	reply := func(r localput.Reply) bool {
		out = localput.AppendReply(out[:0], r)
		_, err := c.Write(out)
		return err == nil
	}
	uid, err := localput.PeerUID(c)
	if err != nil || !localput.MayConnect(uid) {
		s.log.Warn("same-host upload refused", "uid", uid, "err", err)
		reply(localput.Reply{Status: http.StatusUnauthorized, Error: "not the server's user"})
		return
	}
	// A peer that connects and says nothing is not waited for long.
	c.SetReadDeadline(time.Now().Add(helloTimeout))
	m, err := localput.ReceiveHello(c, localArenaLimit)
	c.SetReadDeadline(time.Time{})
	if err != nil {
		s.log.Warn("same-host upload hello", "err", err)
		reply(localput.Reply{Status: http.StatusBadRequest, Error: err.Error()})
		return
	}
	defer m.Close() // after the last Put: each completes before the next is read
	if !reply(localput.Reply{Status: http.StatusOK}) {
		return
	}
	br := bufio.NewReaderSize(c, 4<<10)
	var buf []byte
	for {
		var kind byte
		var body []byte
		kind, body, buf, err = localput.ReadFrame(br, buf)
		if err != nil {
			if !errors.Is(err, net.ErrClosed) && ctx.Err() == nil && !isEOF(err) {
				s.log.Warn("same-host upload", "err", err)
			}
			return
		}
		if kind != localput.KindPut {
			reply(localput.Reply{Status: http.StatusBadRequest, Error: fmt.Sprintf("frame kind %d, want a put", kind)})
			return
		}
		p, err := localput.DecodePut(body)
		if err != nil {
			reply(localput.Reply{Status: http.StatusBadRequest, Error: err.Error()})
			return
		}
		if !reply(s.localPut(ctx, m, p)) {
			return
		}
	}
}

// helloTimeout bounds the wait for a connection's Hello.
const helloTimeout = 10 * time.Second

// localArenaLimit is the largest client arena a server maps.
const localArenaLimit = 16 << 30

// handleLocal answers where the same-host upload socket is, to clients
// on this host only (anyone else could not use it).
func (s *Server) handleLocal(w http.ResponseWriter, r *http.Request) {
	p := s.localPath.Load()
	if p == nil || !sameHost(r) {
		writeError(w, r, http.StatusNotFound, errors.New("no same-host uploads here"))
		return
	}
	writeJSON(w, r, http.StatusOK, localInfo{Socket: *p})
}

// sameHost says whether r came from this machine: from a loopback
// address, or from the address it reached us on.
func sameHost(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return false
	}
	if ip.IsLoopback() {
		return true
	}
	la, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	if !ok {
		return false
	}
	lh, _, err := net.SplitHostPort(la.String())
	return err == nil && net.ParseIP(lh).Equal(ip)
}
