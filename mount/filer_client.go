package mount

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	"weedfs.dev/weed/filer"
	"weedfs.dev/weed/filer/server"
	"weedfs.dev/weed/pb"
)

// ErrFilerUnreachable: the filer did not answer within the operation's
// time (connection refused, reset, or timed out).
var ErrFilerUnreachable = errors.New("mount: filer unreachable")

// errNotEmpty marks a folder delete refused because it has children.
var errNotEmpty = filer.ErrNotEmpty

// filerClient speaks the filer's /internal/mount/ API (protobuf bodies).
type filerClient struct {
	base    string // "http://host:port"
	http    *http.Client
	timeout time.Duration
	stats   *opStats
	// saves sends entry saves, the requests a syscall waits for most.
	saves *saveConns
	// signature marks this mount's changes (a random non-zero int32):
	// sent with each of them and with the change feed's request, it
	// keeps them out of the feed this mount reads (meta_events.go).
	signature int32
}

func newFilerClient(addr string, hc *http.Client, timeout time.Duration, stats *opStats) *filerClient {
	sig := int32(0)
	for sig == 0 {
		sig = rand.Int32()
	}
	return &filerClient{base: "http://" + addr, http: hc, timeout: timeout, stats: stats,
		saves: newSaveConns(addr, sig), signature: sig}
}

// listPage is how many entries one listing request asks for.
const listPage = 1024

// maxFrame bounds one entry frame read from a listing.
const maxFrame = 64 << 20

func (c *filerClient) do(ctx context.Context, method, op string, q url.Values, body []byte) (*http.Response, context.CancelFunc, error) {
	defer c.stats.since("filer "+method+" "+op, time.Now())
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	u := c.base + server.MountPrefix + op
	if method != http.MethodGet {
		// A change: keep it out of this mount's own feed.
		if q == nil {
			q = url.Values{}
		}
		q.Set(server.SignatureParam, strconv.FormatInt(int64(c.signature), 10))
	}
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, r)
	if err != nil {
		cancel()
		return nil, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", server.EntryContentType)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		cancel()
		return nil, nil, fmt.Errorf("%w: %s %s: %v", ErrFilerUnreachable, method, op, err)
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		defer cancel()
		return nil, nil, replyError(resp)
	}
	return resp, cancel, nil
}

// replyError turns an error reply into the filer's sentinel error.
func replyError(resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	return replyBodyError(resp.StatusCode, b)
}

// maxErrorBody bounds the error reply read.
const maxErrorBody = 64 << 10

// replyBodyError turns an error reply (status, JSON body) into the
// filer's sentinel error.
func replyBodyError(status int, b []byte) error {
	var e struct {
		Error string `json:"error"`
		Code  string `json:"code"`
	}
	_ = json.Unmarshal(b, &e)
	var base error
	switch e.Code {
	case "not_found":
		base = filer.ErrNotFound
	case "not_empty":
		base = filer.ErrNotEmpty
	case "conflict":
		base = filer.ErrConflict
	case "bad_rename":
		base = filer.ErrBadRename
	case "bad_path":
		base = filer.ErrBadPath
	case "unavailable":
		base = ErrFilerUnreachable
	default:
		if status == http.StatusNotFound {
			base = filer.ErrNotFound
		} else if status >= 500 {
			base = ErrFilerUnreachable
		} else {
			base = errors.New("mount: filer refused")
		}
	}
	return fmt.Errorf("%w: HTTP %d: %s", base, status, e.Error)
}

// find returns the entry at the filer path p.
func (c *filerClient) find(ctx context.Context, p string) (*filer.Entry, error) {
	resp, cancel, err := c.do(ctx, http.MethodGet, "entry", url.Values{"path": {p}}, nil)
	if err != nil {
		return nil, err
	}
	defer cancel()
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxFrame))
	if err != nil {
		return nil, fmt.Errorf("%w: read entry %s: %v", ErrFilerUnreachable, p, err)
	}
	return decodeEntry(b)
}

func decodeEntry(b []byte) (*filer.Entry, error) {
	var m pb.Entry
	if err := proto.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("decode entry: %v: %w", err, filer.ErrCorrupt)
	}
	e := filer.FromPB(&m)
	p, err := filer.NormalizePath(e.FullPath)
	if err != nil {
		return nil, fmt.Errorf("entry path %q: %w", e.FullPath, filer.ErrCorrupt)
	}
	e.FullPath = p
	return e, nil
}

// save creates or replaces e.FullPath. Unless durable, the filer may
// answer once the change is applied, before it is on stable storage.
func (c *filerClient) save(ctx context.Context, e *filer.Entry, durable bool) error {
	b, err := proto.Marshal(filer.ToPB(e))
	if err != nil {
		return err
	}
	defer c.stats.since("filer PUT entry", time.Now())
	return c.saves.put(ctx, b, durable, c.timeout)
}

func (c *filerClient) remove(ctx context.Context, p string, recursive bool) error {
	q := url.Values{"path": {p}}
	if recursive {
		q.Set("recursive", "true")
	}
	resp, cancel, err := c.do(ctx, http.MethodDelete, "entry", q, nil)
	if err != nil {
		return err
	}
	defer cancel()
	resp.Body.Close()
	return nil
}

func (c *filerClient) rename(ctx context.Context, from, to string) error {
	resp, cancel, err := c.do(ctx, http.MethodPost, "rename", url.Values{"from": {from}, "to": {to}}, nil)
	if err != nil {
		return err
	}
	defer cancel()
	resp.Body.Close()
	return nil
}

// list calls fn for every child of dir, reading pages of listPage.
func (c *filerClient) list(ctx context.Context, dir string, fn func(*filer.Entry)) error {
	start := ""
	for {
		q := url.Values{"path": {dir}, "limit": {strconv.Itoa(listPage)}}
		if start != "" {
			q.Set("start", start)
		}
		resp, cancel, err := c.do(ctx, http.MethodGet, "list", q, nil)
		if err != nil {
			return err
		}
		n := 0
		err = readFrames(bufio.NewReader(resp.Body), func(e *filer.Entry) {
			n++
			start = e.Name()
			fn(e)
		})
		resp.Body.Close()
		cancel()
		if err != nil {
			return fmt.Errorf("%w: list %s: %w", ErrFilerUnreachable, dir, err)
		}
		if n < listPage {
			return nil
		}
	}
}

// readFrames decodes uvarint-length-framed pb.Entry messages until EOF.
func readFrames(r *bufio.Reader, fn func(*filer.Entry)) error {
	for {
		n, err := binary.ReadUvarint(r)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if n > maxFrame {
			return fmt.Errorf("entry frame of %d bytes: %w", n, filer.ErrCorrupt)
		}
		b := make([]byte, n)
		if _, err := io.ReadFull(r, b); err != nil {
			return err
		}
		e, err := decodeEntry(b)
		if err != nil {
			return err
		}
		fn(e)
	}
}

// saveConns sends entry saves (PUT entry) over its own kept-alive
// connections, each request written with one writev(2) and its answer read
// in the caller's goroutine: net/http's client hands every request to a
// writer goroutine and its answer back from a reader goroutine, which on
// a busy machine adds about a tenth of a millisecond to each save, and
// close(2) waits for one save per file.
type saveConns struct {
	addr   string
	dialer net.Dialer
	// query is the query string of every save but its nosync flag.
	query string

	mu   sync.Mutex
	idle []*saveConn
	shut bool
}

type saveConn struct {
	net.Conn
	br *bufio.Reader
}

// maxIdleSaveConns bounds the idle connections kept (saves of several
// programs at once).
const maxIdleSaveConns = 32

func newSaveConns(addr string, signature int32) *saveConns {
	return &saveConns{addr: addr, dialer: net.Dialer{KeepAlive: 30 * time.Second},
		query: server.SignatureParam + "=" + strconv.FormatInt(int64(signature), 10)}
}

// put sends one save of the encoded entry b and waits for the answer.
// A kept-alive connection the filer closed meanwhile is replaced once
// (a save is safe to send again).
func (s *saveConns) put(ctx context.Context, b []byte, durable bool, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	head := s.head(len(b), durable)
	for attempt := 0; ; attempt++ {
		c, reused, err := s.get(ctx)
		if err != nil {
			return fmt.Errorf("%w: PUT entry: %v", ErrFilerUnreachable, err)
		}
		status, body, keep, err := c.roundTrip(ctx, head, b)
		if keep && err == nil {
			s.release(c)
		} else {
			c.Close()
		}
		switch {
		case err != nil && reused && attempt == 0 && ctx.Err() == nil:
			continue
		case err != nil:
			return fmt.Errorf("%w: PUT entry: %v", ErrFilerUnreachable, err)
		case status/100 != 2:
			return replyBodyError(status, body)
		}
		return nil
	}
}

// head is the request line and headers of a save.
func (s *saveConns) head(n int, durable bool) []byte {
	h := make([]byte, 0, 160)
	h = append(h, "PUT "+server.MountPrefix+"entry?"...)
	h = append(h, s.query...)
	if !durable {
		h = append(h, "&"+server.MountNoSync+"=true"...)
	}
	h = append(h, " HTTP/1.1\r\nHost: "...)
	h = append(h, s.addr...)
	h = append(h, "\r\nContent-Type: "+server.EntryContentType+"\r\nContent-Length: "...)
	h = strconv.AppendInt(h, int64(n), 10)
	return append(h, "\r\n\r\n"...)
}

func (s *saveConns) get(ctx context.Context) (*saveConn, bool, error) {
	s.mu.Lock()
	if n := len(s.idle); n > 0 {
		c := s.idle[n-1]
		s.idle = s.idle[:n-1]
		s.mu.Unlock()
		return c, true, nil
	}
	s.mu.Unlock()
	nc, err := s.dialer.DialContext(ctx, "tcp", s.addr)
	if err != nil {
		return nil, false, err
	}
	return &saveConn{Conn: nc, br: bufio.NewReaderSize(nc, 4096)}, false, nil
}

func (s *saveConns) release(c *saveConn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shut || len(s.idle) >= maxIdleSaveConns {
		c.Close()
		return
	}
	s.idle = append(s.idle, c)
}

// close closes the idle connections; later saves dial anew and are not
// kept.
func (s *saveConns) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.idle {
		c.Close()
	}
	s.idle = nil
	s.shut = true
}

// roundTrip writes one request and reads its answer: the status, the
// body (an error reply's JSON), and whether the connection can be kept.
func (c *saveConn) roundTrip(ctx context.Context, head, body []byte) (status int, b []byte, keep bool, err error) {
	if d, ok := ctx.Deadline(); ok {
		c.SetDeadline(d)
	}
	// A cancelled ctx ends a blocked read or write at once.
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	bufs := net.Buffers{head, body}
	if _, err := bufs.WriteTo(c.Conn); err != nil {
		return 0, nil, false, err
	}
	status, b, keep, err = readSaveReply(c.br)
	if err == nil {
		c.SetDeadline(time.Time{})
	}
	return status, b, keep, err
}

// readSaveReply reads the answer to a save: the status, the body (an
// error reply's JSON, at most maxErrorBody bytes), and whether the
// connection can be kept for another request.
func readSaveReply(br *bufio.Reader) (status int, b []byte, keep bool, err error) {
	line, err := br.ReadSlice('\n')
	if err != nil {
		return 0, nil, false, err
	}
	// "HTTP/1.1 204 No Content\r\n"
	f := strings.Fields(string(line))
	if len(f) < 2 || !strings.HasPrefix(f[0], "HTTP/1.") {
		return 0, nil, false, fmt.Errorf("bad status line %q", line)
	}
	if status, err = strconv.Atoi(f[1]); err != nil {
		return 0, nil, false, fmt.Errorf("bad status line %q", line)
	}
	length, chunked := int64(-1), false
	keep = f[0] == "HTTP/1.1"
	for {
		h, err := br.ReadSlice('\n')
		if err != nil {
			return 0, nil, false, err
		}
		hs := strings.TrimSpace(string(h))
		if hs == "" {
			break
		}
		name, value, _ := strings.Cut(hs, ":")
		value = strings.TrimSpace(value)
		switch strings.ToLower(name) {
		case "content-length":
			if length, err = strconv.ParseInt(value, 10, 64); err != nil || length < 0 {
				return 0, nil, false, fmt.Errorf("bad content-length %q", value)
			}
		case "transfer-encoding":
			chunked = strings.EqualFold(value, "chunked")
		case "connection":
			if strings.EqualFold(value, "close") {
				keep = false
			}
		}
	}
	switch {
	case status == http.StatusNoContent || status == http.StatusNotModified || status/100 == 1:
		// No body.
	case chunked:
		b, err = io.ReadAll(io.LimitReader(httputil.NewChunkedReader(br), maxErrorBody))
		keep = false // the rest of a long body is not read
	case length >= 0 && length <= maxErrorBody:
		b = make([]byte, length)
		_, err = io.ReadFull(br, b)
	default:
		b, err = io.ReadAll(io.LimitReader(br, maxErrorBody))
		keep = false
	}
	if err != nil {
		return 0, nil, false, err
	}
	return status, b, keep, nil
}
