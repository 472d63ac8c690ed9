package master

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// maxCachedLookups bounds a follower's lookup cache; it is emptied when
// full (entries live one pulse anyway).
const maxCachedLookups = 1 << 16

// lookupCache holds the locations a follower's forwarded lookups got from
// the leader, for one pulse: within it the leader's view changes only by
// heartbeats the follower could not have seen either.
type lookupCache struct {
	ttl  time.Duration
	hits atomic.Uint64

	mu sync.Mutex
	m  map[lookupKey]cachedLookup
}

type lookupKey struct {
	vid        uint32
	collection string
}

type cachedLookup struct {
	locs  []lookupLocation
	until time.Time
}

func (c *lookupCache) get(vid uint32, collection string, now time.Time) ([]lookupLocation, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[lookupKey{vid, collection}]
	if !ok || now.After(e.until) {
		return nil, false
	}
	c.hits.Add(1)
	return e.locs, true
}

func (c *lookupCache) put(vid uint32, collection string, locs []lookupLocation, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxCachedLookups {
		c.m = map[lookupKey]cachedLookup{}
	}
	c.m[lookupKey{vid, collection}] = cachedLookup{locs: locs, until: now.Add(c.ttl)}
}

// remember is the reverse proxy's ModifyResponse: it caches the leader's
// successful /dir/lookup answers and passes every response on unchanged.
func (s *Server) remember(resp *http.Response) error {
	if resp.StatusCode != http.StatusOK || resp.Request == nil || resp.Request.URL.Path != "/dir/lookup" {
		return nil
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil {
		return err
	}
	q := resp.Request.URL.Query()
	text := q.Get("volumeId")
	if fid := q.Get("fileId"); fid != "" {
		text = fid
	}
	vid, perr := strconv.ParseUint(volumePart(text), 10, 32)
	var res lookupResult
	if perr != nil || json.Unmarshal(body, &res) != nil || len(res.Locations) == 0 ||
		res.VolumeOrFileID != strconv.FormatUint(vid, 10) {
		return nil
	}
	s.lookups.put(uint32(vid), q.Get("collection"), res.Locations, time.Now())
	return nil
}
