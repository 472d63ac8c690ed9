package client

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"weedfs.dev/weed/client/localput"
)

// Same-host uploads (package localput): when the volume server runs on
// this machine and offers them, a chunk whose bytes lie in the caller's
// Arena is sent as a small frame naming them; the server appends the
// needle straight from its mapping of the arena. Anything else, and any
// failure to reach the socket, takes the TCP PUT.

// localRetry is how long a server that does not offer same-host uploads,
// or whose socket failed, is sent PUTs before it is asked again.
const localRetry = 30 * time.Second

// localState is what a ChunkWriter knows of one server's socket.
type localState struct {
	socket  string    // "" : none (PUT)
	recheck time.Time // ask again after this
}

type localKey struct {
	server string
	arena  *localput.Arena
}

// localConn is a connection that sent its Hello for arena.
type localConn struct {
	*net.UnixConn
	br  *bufio.Reader
	buf []byte // frame scratch
}

// localSide is the same-host half of a ChunkWriter.
type localSide struct {
	mu    sync.Mutex
	state map[string]localState
	idle  map[localKey][]*localConn
	hc    *http.Client
	// isLocal says whether a host (of "host:port") is this machine.
	isLocal func(host string) bool
	// puts counts the uploads the server took through its socket.
	puts atomic.Uint64
	// viaHTTP holds "server vid" of volumes whose uploads the server
	// sent back to HTTP (replicated ones), until the time given.
	viaHTTP map[string]time.Time
}

func (l *localSide) init() {
	l.state = map[string]localState{}
	l.idle = map[localKey][]*localConn{}
	l.viaHTTP = map[string]time.Time{}
	l.hc = &http.Client{Timeout: 2 * time.Second}
	l.isLocal = hostIsLocal
}

// PutFrom is Put for data lying in arena (nil: plain Put): over the
// volume server's same-host socket when it offers one, else as Put.
// crc, when not nil, is the CRC-32C (Castagnoli) of data the caller
// computed as it wrote the bytes: the server stores it as the needle's
// checksum instead of reading the bytes once more. A wrong one spoils
// only this needle (its reads fail their check); a PUT ignores it.
func (w *ChunkWriter) PutFrom(ctx context.Context, server, fid string, arena *localput.Arena, data []byte, crc *uint32, o UploadOptions) (*UploadResult, error) {
	off, ok := arena.Offset(data)
	if !ok || uint64(len(data)) > 1<<32-1 || o.Name != "" || o.Mime != "" || len(o.Pairs) > 0 || o.Gzipped || o.Manifest || o.Replicate {
		return w.Put(ctx, server, fid, data, o)
	}
	vol := server + " " + fid[:max(strings.IndexByte(fid, ','), 0)]
	socket := w.local.socket(ctx, server)
	if socket == "" || w.local.sentToHTTP(vol) {
		return w.Put(ctx, server, fid, data, o)
	}
	p := localput.Put{Fsync: o.Fsync, Offset: off, Length: uint32(len(data)), Fid: fid, TTL: o.TTL, JWT: o.JWT}
	if o.Timestamp > 0 {
		p.Timestamp = uint64(o.Timestamp)
	}
	if crc != nil {
		p.HasCRC, p.CRC = true, *crc
	}
	frame, err := localput.AppendPut(nil, p)
	if err != nil {
		return w.Put(ctx, server, fid, data, o)
	}
	key := localKey{server, arena}
	for attempt := 0; ; attempt++ {
		lc, reused, err := w.local.conn(ctx, key, socket)
		if err != nil {
			w.local.forget(server)
			return w.Put(ctx, server, fid, data, o)
		}
		r, err := lc.roundTrip(ctx, frame)
		if err != nil {
			lc.Close()
			if ctx.Err() != nil {
				return nil, fmt.Errorf("upload %s: %w", fid, ctx.Err())
			}
			if reused && attempt == 0 {
				continue // a kept connection the server closed meanwhile
			}
			// The same bytes to the same fid are stored once: a PUT after
			// a failure that came after the write is answered unchanged.
			w.local.forget(server)
			return w.Put(ctx, server, fid, data, o)
		}
		w.local.release(key, lc, w.maxIdle)
		switch {
		case r.Status == localput.StatusUseHTTP:
			w.local.mu.Lock()
			w.local.viaHTTP[vol] = time.Now().Add(localRetry)
			w.local.mu.Unlock()
			return w.Put(ctx, server, fid, data, o)
		case r.Status/100 != 2:
			return nil, fmt.Errorf("upload %s: %w", fid, replyError(r))
		}
		w.local.puts.Add(1)
		return &UploadResult{Name: r.Name, Size: int64(r.Size), ETag: r.ETag, Mime: r.Mime,
			Unchanged: r.Status == http.StatusNoContent}, nil
	}
}

// LocalPuts is how many uploads went through volume servers' same-host
// sockets (the rest were PUTs).
func (w *ChunkWriter) LocalPuts() uint64 { return w.local.puts.Load() }

// replyError is the error a PUT answered as r would have given.
func replyError(r localput.Reply) error {
	ae := &apiError{Status: int(r.Status), Message: r.Error}
	switch r.Status {
	case http.StatusNotFound:
		return fmt.Errorf("%w: %w", ErrNotFound, ae)
	case http.StatusUnauthorized:
		return fmt.Errorf("%w: %w", ErrForbidden, ae)
	}
	return ae
}

// roundTrip sends one frame and reads its reply.
func (lc *localConn) roundTrip(ctx context.Context, frame []byte) (localput.Reply, error) {
	deadline, _ := ctx.Deadline()
	if err := lc.SetDeadline(deadline); err != nil {
		return localput.Reply{}, err
	}
	stop := context.AfterFunc(ctx, func() { lc.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if _, err := lc.Write(frame); err != nil {
		return localput.Reply{}, err
	}
	return lc.readReply()
}

func (lc *localConn) readReply() (localput.Reply, error) {
	kind, body, buf, err := localput.ReadFrame(lc.br, lc.buf)
	lc.buf = buf
	if err != nil {
		return localput.Reply{}, err
	}
	if kind != localput.KindReply {
		return localput.Reply{}, fmt.Errorf("%w: kind %d, want a reply", localput.ErrCorrupt, kind)
	}
	return localput.DecodeReply(body)
}

// socket is the same-host socket of server, "" when it offers none.
func (l *localSide) socket(ctx context.Context, server string) string {
	l.mu.Lock()
	st, known := l.state[server]
	l.mu.Unlock()
	if known && (st.socket != "" || time.Now().Before(st.recheck)) {
		return st.socket
	}
	st = localState{recheck: time.Now().Add(localRetry)}
	if host, _, err := net.SplitHostPort(server); err == nil && l.isLocal(host) {
		st.socket = l.ask(ctx, server)
	} else {
		st.recheck = time.Now().Add(24 * time.Hour) // not this machine
	}
	l.mu.Lock()
	l.state[server] = st
	l.mu.Unlock()
	return st.socket
}

// ask gets the socket path from the server's GET /admin/local.
func (l *localSide) ask(ctx context.Context, server string) string {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+server+"/admin/local", nil)
	if err != nil {
		return ""
	}
	resp, err := l.hc.Do(req)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	var info struct {
		Socket string `json:"socket"`
	}
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&info) != nil {
		return ""
	}
	return info.Socket
}

// sentToHTTP says whether vol ("server vid") is to be sent PUTs.
func (l *localSide) sentToHTTP(vol string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	until, ok := l.viaHTTP[vol]
	if ok && time.Now().After(until) {
		delete(l.viaHTTP, vol)
		return false
	}
	return ok
}

// forget sends server PUTs until localRetry has passed.
func (l *localSide) forget(server string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.state[server] = localState{recheck: time.Now().Add(localRetry)}
	for k, cs := range l.idle {
		if k.server == server {
			for _, c := range cs {
				c.Close()
			}
			delete(l.idle, k)
		}
	}
}

// conn returns an idle connection for key, or dials socket and sends the
// arena's Hello.
func (l *localSide) conn(ctx context.Context, key localKey, socket string) (*localConn, bool, error) {
	l.mu.Lock()
	if cs := l.idle[key]; len(cs) > 0 {
		lc := cs[len(cs)-1]
		l.idle[key] = cs[:len(cs)-1]
		l.mu.Unlock()
		return lc, true, nil
	}
	l.mu.Unlock()
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", socket)
	if err != nil {
		return nil, false, err
	}
	lc := &localConn{UnixConn: c.(*net.UnixConn)}
	lc.br = bufio.NewReaderSize(lc.UnixConn, 512)
	fail := func(err error) (*localConn, bool, error) {
		lc.Close()
		return nil, false, fmt.Errorf("same-host hello to %s: %w", socket, err)
	}
	if deadline, ok := ctx.Deadline(); ok {
		lc.SetDeadline(deadline)
	}
	if err := key.arena.SendHello(lc.UnixConn); err != nil {
		return fail(err)
	}
	r, err := lc.readReply()
	if err != nil {
		return fail(err)
	}
	if r.Status != http.StatusOK {
		return fail(errors.New(r.Error))
	}
	return lc, false, nil
}

func (l *localSide) release(key localKey, lc *localConn, maxIdle int) {
	if lc.SetDeadline(time.Time{}) != nil || lc.br.Buffered() != 0 {
		lc.Close()
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.idle[key]) >= maxIdle {
		lc.Close()
		return
	}
	l.idle[key] = append(l.idle[key], lc)
}

func (l *localSide) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for k, cs := range l.idle {
		for _, c := range cs {
			c.Close()
		}
		delete(l.idle, k)
	}
}

// hostIsLocal says whether host names this machine: a loopback name or
// address, or an address of one of its interfaces.
func hostIsLocal(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return false
	}
	if ip.IsLoopback() {
		return true
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return false
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.Equal(ip) {
			return true
		}
	}
	return false
}
