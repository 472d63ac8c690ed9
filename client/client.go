package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Errors callers may compare with errors.Is.
var (
	ErrNotFound  = errors.New("client: not found")
	ErrNoMaster  = errors.New("client: no master answered")
	ErrBadReply  = errors.New("client: unexpected reply")
	ErrForbidden = errors.New("client: wrong jwt")
)

// Options configure a Client.
type Options struct {
	// HTTP is the client for every request; nil uses a tuned keep-alive
	// client shared by this Client.
	HTTP *http.Client
	// CacheTTL is how long a volume location is trusted (default 10 min);
	// a read that misses refreshes it sooner.
	CacheTTL time.Duration
}

// Client talks to one weed (or SeaweedFS) cluster.
type Client struct {
	masters []string
	http    *http.Client
	ttl     time.Duration

	mu        sync.Mutex
	preferred int // index into masters of the last one that answered
	cache     map[uint32]cachedLocations

	boundary string // of multipart uploads, drawn once (see formBody)
}

type cachedLocations struct {
	locs    []Location
	expires time.Time
}

// New returns a client for the masters ("host:port" each).
func New(masters []string, opts Options) *Client {
	c := &Client{masters: masters, http: opts.HTTP, ttl: opts.CacheTTL, cache: map[uint32]cachedLocations{}, boundary: newBoundary()}
	if c.http == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = 256
		t.MaxIdleConns = 1024
		c.http = &http.Client{Transport: t}
	}
	if c.ttl <= 0 {
		c.ttl = 10 * time.Minute
	}
	return c
}

// HTTP returns the HTTP client the Client uses.
func (c *Client) HTTP() *http.Client { return c.http }

// Location is one place a volume lives.
type Location struct {
	URL        string `json:"url"`
	PublicURL  string `json:"publicUrl"`
	DataCenter string `json:"dataCenter,omitempty"`
	GrpcPort   int    `json:"grpcPort,omitempty"`
}

// apiError is the {"error": "..."} body of every failed JSON call.
type apiError struct {
	Status  int
	Message string
}

func (e *apiError) Error() string { return fmt.Sprintf("HTTP %d: %s", e.Status, e.Message) }

// StatusCode of an error returned by a request, or 0.
func StatusCode(err error) int {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae.Status
	}
	return 0
}

// masterGet sends a GET to the masters in turn, starting with the one that
// last answered, and decodes the JSON reply into out. It returns the reply
// headers.
func (c *Client) masterGet(ctx context.Context, path string, q url.Values, out any) (http.Header, error) {
	if len(c.masters) == 0 {
		return nil, fmt.Errorf("%w: no master configured", ErrNoMaster)
	}
	c.mu.Lock()
	start := c.preferred
	c.mu.Unlock()
	var lastErr error
	for i := range c.masters {
		n := (start + i) % len(c.masters)
		h, err := c.getJSON(ctx, "http://"+c.masters[n]+path+"?"+q.Encode(), out)
		if err == nil || StatusCode(err) != 0 {
			c.mu.Lock()
			c.preferred = n
			c.mu.Unlock()
			return h, err
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		lastErr = err
	}
	return nil, fmt.Errorf("%w: %w", ErrNoMaster, lastErr)
}

// getJSON does one GET and decodes a JSON reply; a non-2xx reply becomes an
// *apiError carrying the body's "error".
func (c *Client) getJSON(ctx context.Context, u string, out any) (http.Header, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return resp.Header, decodeReply(resp, out)
}

func decodeReply(resp *http.Response, out any) error {
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("read reply: %w", err)
	}
	if resp.StatusCode/100 != 2 {
		var e struct {
			Error string `json:"error"`
		}
		_ = json.Unmarshal(body, &e)
		if e.Error == "" {
			e.Error = strings.TrimSpace(string(body))
		}
		ae := &apiError{Status: resp.StatusCode, Message: e.Error}
		switch resp.StatusCode {
		case http.StatusNotFound:
			return fmt.Errorf("%w: %w", ErrNotFound, ae)
		case http.StatusUnauthorized:
			return fmt.Errorf("%w: %w", ErrForbidden, ae)
		}
		return ae
	}
	if out == nil || len(body) == 0 {
		return nil
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("%w: %v: %.200s", ErrBadReply, err, body)
	}
	return nil
}

// AssignOptions are /dir/assign's parameters.
type AssignOptions struct {
	Count       uint64
	Collection  string
	Replication string
	TTL         string
	DataCenter  string
	Rack        string
	DataNode    string
	DiskType    string
}

// Assignment is where to write: a fid (and Count-1 more as fid_1...), the
// volume server, and a write token when the cluster signs them.
type Assignment struct {
	Fid       string `json:"fid"`
	URL       string `json:"url"`
	PublicURL string `json:"publicUrl"`
	Count     uint64 `json:"count"`
	Error     string `json:"error,omitempty"`
	// Auth is the JWT from the Authorization response header, if any.
	Auth string `json:"-"`
}

// Assign asks a master for file ids. It is not retried on another master
// once one has answered.
func (c *Client) Assign(ctx context.Context, o AssignOptions) (*Assignment, error) {
	q := url.Values{}
	if o.Count > 1 {
		q.Set("count", strconv.FormatUint(o.Count, 10))
	}
	set := func(k, v string) {
		if v != "" {
			q.Set(k, v)
		}
	}
	set("collection", o.Collection)
	set("replication", o.Replication)
	set("ttl", o.TTL)
	set("dataCenter", o.DataCenter)
	set("rack", o.Rack)
	set("dataNode", o.DataNode)
	set("disk", o.DiskType)
	var a Assignment
	h, err := c.masterGet(ctx, "/dir/assign", q, &a)
	if err != nil {
		return nil, fmt.Errorf("assign: %w", err)
	}
	if a.Error != "" || a.Fid == "" {
		return nil, fmt.Errorf("assign: %w: %q", ErrBadReply, a.Error)
	}
	a.Auth = bearer(h.Get("Authorization"))
	return &a, nil
}

func bearer(h string) string {
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

// Lookup returns where volume vid lives, from the cache when fresh.
func (c *Client) Lookup(ctx context.Context, vid uint32) ([]Location, error) {
	c.mu.Lock()
	e, ok := c.cache[vid]
	c.mu.Unlock()
	if ok && time.Now().Before(e.expires) {
		return e.locs, nil
	}
	return c.lookupFresh(ctx, vid)
}

// Invalidate forgets the cached locations of vid.
func (c *Client) Invalidate(vid uint32) {
	c.mu.Lock()
	delete(c.cache, vid)
	c.mu.Unlock()
}

func (c *Client) lookupFresh(ctx context.Context, vid uint32) ([]Location, error) {
	var reply struct {
		Locations []Location `json:"locations"`
		Error     string     `json:"error"`
	}
	q := url.Values{"volumeId": {strconv.FormatUint(uint64(vid), 10)}}
	if _, err := c.masterGet(ctx, "/dir/lookup", q, &reply); err != nil {
		return nil, fmt.Errorf("lookup volume %d: %w", vid, err)
	}
	if len(reply.Locations) == 0 {
		return nil, fmt.Errorf("lookup volume %d: %w", vid, ErrNotFound)
	}
	c.mu.Lock()
	c.cache[vid] = cachedLocations{locs: reply.Locations, expires: time.Now().Add(c.ttl)}
	c.mu.Unlock()
	return reply.Locations, nil
}
