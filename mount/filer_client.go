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
	"net/http"
	"net/url"
	"strconv"
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
}

// listPage is how many entries one listing request asks for.
const listPage = 1024

// maxFrame bounds one entry frame read from a listing.
const maxFrame = 64 << 20

func (c *filerClient) do(ctx context.Context, method, op string, q url.Values, body []byte) (*http.Response, context.CancelFunc, error) {
	defer c.stats.since("filer "+method+" "+op, time.Now())
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	u := c.base + server.MountPrefix + op
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
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
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
		if resp.StatusCode == http.StatusNotFound {
			base = filer.ErrNotFound
		} else if resp.StatusCode >= 500 {
			base = ErrFilerUnreachable
		} else {
			base = errors.New("mount: filer refused")
		}
	}
	return fmt.Errorf("%w: HTTP %d: %s", base, resp.StatusCode, e.Error)
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
	var q url.Values
	if !durable {
		q = url.Values{server.MountNoSync: {"true"}}
	}
	resp, cancel, err := c.do(ctx, http.MethodPut, "entry", q, b)
	if err != nil {
		return err
	}
	defer cancel()
	resp.Body.Close()
	return nil
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
