package client

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"weedfs.dev/weed/storage/needle"
)

// UploadOptions describe one blob write.
type UploadOptions struct {
	Name  string
	Mime  string
	Pairs map[string]string // sent as Seaweed-<k>: v
	TTL   string
	JWT   string
	Fsync bool
	// Raw sends the bytes as the request body (PUT) instead of multipart.
	Raw bool
	// Manifest marks the blob as a chunk manifest (?cm=true).
	Manifest bool
	// Gzipped says data is already gzip-compressed.
	Gzipped bool
	// Timestamp sets the blob's last-modified time (unix seconds, ?ts=).
	Timestamp int64
	// Replicate marks a volume server's copy to a replica (?type=replicate):
	// stored as sent, not forwarded again.
	Replicate bool
}

// UploadResult is a volume server's reply to a write.
type UploadResult struct {
	Name string `json:"name,omitempty"`
	Size int64  `json:"size,omitempty"`
	ETag string `json:"eTag,omitempty"`
	Mime string `json:"mime,omitempty"`
	// Unchanged: the server already held these bytes (HTTP 204).
	Unchanged bool `json:"-"`
}

// Upload writes data to fid on the volume server at server ("host:port").
// It is safe to retry: the same bytes to the same fid are stored once.
func (c *Client) Upload(ctx context.Context, server, fid string, data []byte, o UploadOptions) (*UploadResult, error) {
	q := url.Values{}
	if o.TTL != "" {
		q.Set("ttl", o.TTL)
	}
	if o.Fsync {
		q.Set("fsync", "true")
	}
	if o.Manifest {
		q.Set("cm", "true")
	}
	if o.Timestamp > 0 {
		q.Set("ts", strconv.FormatInt(o.Timestamp, 10))
	}
	if o.Replicate {
		q.Set("type", "replicate")
	}
	u := "http://" + server + "/" + fid
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	method := http.MethodPost
	if o.Raw {
		method = http.MethodPut
	}
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		return nil, err
	}
	ctype := o.Mime
	if o.Raw {
		setBody(req, data)
	} else {
		name := o.Name
		if name == "" {
			name = "file"
		}
		var head, tail []byte
		head, tail, ctype = formBody(c.boundary, data, formPart{name: name, mime: o.Mime, gzipped: o.Gzipped})
		setBody(req, head, data, tail)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if o.Raw && o.Name != "" {
		req.Header.Set("Content-Disposition", `inline; filename="`+escapeQuotes(o.Name)+`"`)
	}
	if o.Raw && o.Gzipped {
		req.Header.Set("Content-Encoding", "gzip")
	}
	for k, v := range o.Pairs {
		req.Header.Set("Seaweed-"+k, v)
	}
	if o.JWT != "" {
		req.Header.Set("Authorization", "Bearer "+o.JWT)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("upload %s: %w", fid, err)
	}
	defer resp.Body.Close()
	var r UploadResult
	if err := decodeReply(resp, &r); err != nil {
		return nil, fmt.Errorf("upload %s: %w", fid, err)
	}
	r.Unchanged = resp.StatusCode == http.StatusNoContent
	return &r, nil
}

var quoteEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`)

func escapeQuotes(s string) string { return quoteEscaper.Replace(s) }

// ReadOptions select part of a blob.
type ReadOptions struct {
	// Offset and Length select a byte range; Length 0 means to the end.
	Offset, Length int64
	JWT            string
}

// Open streams the blob fid, trying each location of its volume and
// refreshing the location cache once when every cached one misses. The
// caller closes the body.
func (c *Client) Open(ctx context.Context, fid string, o ReadOptions) (io.ReadCloser, http.Header, error) {
	id, err := needle.ParseFileID(fid)
	if err != nil {
		return nil, nil, err
	}
	var lastErr error
	for attempt := 0; attempt < 2; attempt++ {
		locs, err := c.Lookup(ctx, id.VolumeID)
		if attempt == 1 || err != nil {
			c.Invalidate(id.VolumeID)
			if locs, err = c.lookupFresh(ctx, id.VolumeID); err != nil {
				return nil, nil, err
			}
		}
		for _, l := range locs {
			body, h, err := c.get(ctx, l.URL, fid, o)
			if err == nil {
				return body, h, nil
			}
			if ctx.Err() != nil {
				return nil, nil, ctx.Err()
			}
			lastErr = err
		}
	}
	return nil, nil, lastErr
}

// Read returns the whole blob (or the selected range) in memory.
func (c *Client) Read(ctx context.Context, fid string, o ReadOptions) ([]byte, http.Header, error) {
	body, h, err := c.Open(ctx, fid, o)
	if err != nil {
		return nil, nil, err
	}
	defer body.Close()
	b, err := io.ReadAll(body)
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", fid, err)
	}
	return b, h, nil
}

func (c *Client) get(ctx context.Context, server, fid string, o ReadOptions) (io.ReadCloser, http.Header, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+server+"/"+fid, nil)
	if err != nil {
		return nil, nil, err
	}
	if o.Offset > 0 || o.Length > 0 {
		r := "bytes=" + strconv.FormatInt(o.Offset, 10) + "-"
		if o.Length > 0 {
			r += strconv.FormatInt(o.Offset+o.Length-1, 10)
		}
		req.Header.Set("Range", r)
	}
	if o.JWT != "" {
		req.Header.Set("Authorization", "Bearer "+o.JWT)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("read %s from %s: %w", fid, server, err)
	}
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusPartialContent {
		defer resp.Body.Close()
		err := decodeReply(resp, nil)
		return nil, nil, fmt.Errorf("read %s from %s: %w", fid, server, err)
	}
	return resp.Body, resp.Header, nil
}

// Delete removes fid from its volume (every replica: the volume server
// fans out). A fid that is already gone is not an error.
func (c *Client) Delete(ctx context.Context, fid, jwt string) error {
	id, err := needle.ParseFileID(fid)
	if err != nil {
		return err
	}
	locs, err := c.Lookup(ctx, id.VolumeID)
	if err != nil {
		return err
	}
	var lastErr error
	for _, l := range locs {
		req, err := http.NewRequestWithContext(ctx, http.MethodDelete, "http://"+l.URL+"/"+fid, nil)
		if err != nil {
			return err
		}
		if jwt != "" {
			req.Header.Set("Authorization", "Bearer "+jwt)
		}
		resp, err := c.http.Do(req)
		if err != nil {
			lastErr = err
			continue
		}
		err = decodeReply(resp, nil)
		resp.Body.Close()
		if err == nil || StatusCode(err) == http.StatusNotFound {
			return nil
		}
		lastErr = err
	}
	return fmt.Errorf("delete %s: %w", fid, lastErr)
}
