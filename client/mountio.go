package client

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// ChunkWriter uploads whole chunks (raw PUTs of bytes already in memory)
// over its own kept-alive connections, writing each request's head and
// body with one writev(2). net/http copies a body of known length
// through a 32 KiB buffer, one write(2) per 32 KiB: for a mount writing
// 4 MiB chunks that extra copy and those syscalls were a third of the
// mount's CPU time. PutFrom goes further for a volume server on this
// host: bytes in a shared-memory arena are not sent at all
// (mountio_local.go).
type ChunkWriter struct {
	dialer  net.Dialer
	maxIdle int

	mu   sync.Mutex
	idle map[string][]*chunkConn // by "host:port"

	local localSide // same-host uploads (PutFrom)
}

type chunkConn struct {
	net.Conn
	br *bufio.Reader
}

// NewChunkWriter returns a ChunkWriter keeping at most maxIdle idle
// connections per volume server.
func NewChunkWriter(maxIdle int) *ChunkWriter {
	w := &ChunkWriter{maxIdle: max(maxIdle, 1), idle: map[string][]*chunkConn{},
		dialer: net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}}
	w.local.init()
	return w
}

// ErrUnsupportedUpload: an option ChunkWriter does not send (multipart
// forms, names, mime types, pairs, gzip, manifests, replica copies).
var ErrUnsupportedUpload = errors.New("client: upload option not supported by ChunkWriter")

// Put writes data to fid on the volume server at server ("host:port"),
// as Upload with o.Raw does; only o.JWT, o.Fsync, o.TTL and o.Timestamp
// are sent. A kept-alive connection the server closed meanwhile is
// replaced once; like Upload it is safe to retry.
func (w *ChunkWriter) Put(ctx context.Context, server, fid string, data []byte, o UploadOptions) (*UploadResult, error) {
	if o.Name != "" || o.Mime != "" || len(o.Pairs) > 0 || o.Gzipped || o.Manifest || o.Replicate {
		return nil, ErrUnsupportedUpload
	}
	head := putHead(server, fid, len(data), o)
	for attempt := 0; ; attempt++ {
		cc, reused, err := w.conn(ctx, server)
		if err != nil {
			return nil, fmt.Errorf("upload %s: %w", fid, err)
		}
		r, keep, err := w.roundTrip(ctx, cc, head, data)
		if keep {
			w.release(server, cc)
		} else {
			cc.Close()
		}
		if err == nil {
			return r, nil
		}
		if StatusCode(err) != 0 || !reused || attempt > 0 || ctx.Err() != nil {
			return nil, fmt.Errorf("upload %s: %w", fid, err)
		}
	}
}

// putHead is the request line and headers of a raw PUT.
func putHead(server, fid string, n int, o UploadOptions) []byte {
	b := make([]byte, 0, 256+len(o.JWT))
	b = append(b, "PUT /"...)
	b = append(b, fid...)
	sep := byte('?')
	param := func(k, v string) {
		b = append(b, sep)
		b = append(b, k...)
		b = append(b, '=')
		b = append(b, v...)
		sep = '&'
	}
	if o.TTL != "" {
		param("ttl", o.TTL)
	}
	if o.Fsync {
		param("fsync", "true")
	}
	if o.Timestamp > 0 {
		param("ts", strconv.FormatInt(o.Timestamp, 10))
	}
	b = append(b, " HTTP/1.1\r\nHost: "...)
	b = append(b, server...)
	b = append(b, "\r\nUser-Agent: weed-mount\r\nContent-Length: "...)
	b = strconv.AppendInt(b, int64(n), 10)
	if o.JWT != "" {
		b = append(b, "\r\nAuthorization: Bearer "...)
		b = append(b, o.JWT...)
	}
	b = append(b, "\r\n\r\n"...)
	return b
}

// roundTrip sends one request on cc and reads its reply; keep says
// whether cc can carry another.
func (w *ChunkWriter) roundTrip(ctx context.Context, cc *chunkConn, head, data []byte) (*UploadResult, bool, error) {
	deadline, _ := ctx.Deadline()
	if err := cc.SetDeadline(deadline); err != nil {
		return nil, false, err
	}
	// Cancelling ctx ends a blocked write or read at once.
	stop := context.AfterFunc(ctx, func() { cc.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	bufs := net.Buffers{head, data}
	if _, err := bufs.WriteTo(cc.Conn); err != nil {
		return nil, false, ctxErr(ctx, err)
	}
	resp, err := http.ReadResponse(cc.br, nil)
	if err != nil {
		return nil, false, ctxErr(ctx, err)
	}
	var r UploadResult
	err = decodeReply(resp, &r)
	// decodeReply reads at most 16 MiB of the body: what is left makes
	// the connection unusable.
	_, derr := io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	keep := derr == nil && !resp.Close && cc.br.Buffered() == 0 && stop()
	if err != nil {
		return nil, keep, err
	}
	r.Unchanged = resp.StatusCode == http.StatusNoContent
	return &r, keep, nil
}

func ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// conn returns an idle connection to server, or a new one.
func (w *ChunkWriter) conn(ctx context.Context, server string) (*chunkConn, bool, error) {
	w.mu.Lock()
	if l := w.idle[server]; len(l) > 0 {
		cc := l[len(l)-1]
		w.idle[server] = l[:len(l)-1]
		w.mu.Unlock()
		return cc, true, nil
	}
	w.mu.Unlock()
	c, err := w.dialer.DialContext(ctx, "tcp", server)
	if err != nil {
		return nil, false, err
	}
	return &chunkConn{Conn: c, br: bufio.NewReaderSize(c, 4<<10)}, false, nil
}

func (w *ChunkWriter) release(server string, cc *chunkConn) {
	if cc.SetDeadline(time.Time{}) != nil {
		cc.Close()
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.idle[server]) >= w.maxIdle {
		cc.Close()
		return
	}
	w.idle[server] = append(w.idle[server], cc)
}

// Close closes the idle connections.
func (w *ChunkWriter) Close() {
	w.local.close()
	w.mu.Lock()
	defer w.mu.Unlock()
	for s, l := range w.idle {
		for _, cc := range l {
			cc.Close()
		}
		delete(w.idle, s)
	}
}
