package master

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"weedfs.dev/weed/master/topology"
	"weedfs.dev/weed/security"
	"weedfs.dev/weed/storage/needle"
	"weedfs.dev/weed/storage/superblock"
)

// assignResult is /dir/assign's reply, with SeaweedFS's field names.
type assignResult struct {
	Fid       string `json:"fid"`
	URL       string `json:"url"`
	PublicURL string `json:"publicUrl"`
	Count     uint64 `json:"count"`
}

// assignRequest is a parsed /dir/assign (or /submit) request.
type assignRequest struct {
	count        uint64
	opt          topology.WriteOption
	growCount    int   // writableVolumeCount: volumes to grow when needed
	preallocate  int64 // bytes, for grown volumes
	memoryMapMax uint32
}

// formGetter is r.FormValue or a url.Values' Get.
type formGetter func(string) string

// parseWriteOption reads the layout and placement parameters shared by
// /dir/assign, /vol/grow and /submit. Bad values are 406, as SeaweedFS.
func (s *Server) parseWriteOption(get formGetter) (topology.WriteOption, error) {
	opt := topology.WriteOption{
		Collection: get("collection"),
		DiskType:   get("disk"),
		DataCenter: get("dataCenter"),
		Rack:       get("rack"),
		DataNode:   get("dataNode"),
		Placement:  s.placement,
	}
	if rep := get("replication"); rep != "" {
		p, err := superblock.ParseReplicaPlacement(rep)
		if err != nil {
			return opt, errorf(http.StatusNotAcceptable, "%v", err)
		}
		opt.Placement = p
	}
	ttl, err := parseTTL(get("ttl"))
	if err != nil {
		return opt, errorf(http.StatusNotAcceptable, "%v", err)
	}
	opt.TTL = ttl
	return opt, nil
}

// parseTTL reads a TTL as SeaweedFS does: a count that is not a number
// is refused, but an unknown unit letter ("3x") silently means no TTL.
func parseTTL(s string) (needle.TTL, error) {
	t, err := needle.ParseTTL(s)
	if err == nil {
		return t, nil
	}
	if n := len(s); n > 1 {
		last := s[n-1]
		isLetter := ('a' <= last && last <= 'z') || ('A' <= last && last <= 'Z')
		if _, cerr := strconv.ParseUint(s[:n-1], 10, 8); cerr == nil && isLetter {
			return needle.TTL{}, nil
		}
	}
	return needle.TTL{}, errors.New("bad ttl " + strconv.Quote(s) + ": want <count><unit>, unit one of m h d w M y")
}

func (s *Server) parseAssign(get formGetter) (assignRequest, error) {
	req := assignRequest{count: 1}
	if c, err := strconv.ParseUint(get("count"), 10, 64); err == nil && c > 0 {
		req.count = c
	}
	if req.count > s.cfg.MaxAssignCount {
		return req, errorf(http.StatusNotAcceptable, "count %d is more than %d", req.count, s.cfg.MaxAssignCount)
	}
	opt, err := s.parseWriteOption(get)
	if err != nil {
		return req, err
	}
	req.opt = opt
	if n, err := strconv.ParseUint(get("writableVolumeCount"), 10, 16); err == nil {
		req.growCount = int(n)
	}
	if n, err := strconv.ParseInt(get("preallocate"), 10, 64); err == nil && n > 0 {
		req.preallocate = n
	}
	if n, err := strconv.ParseUint(get("memoryMapMaxSizeMb"), 10, 32); err == nil {
		req.memoryMapMax = uint32(n)
	}
	return req, nil
}

func (s *Server) handleAssign(w http.ResponseWriter, r *http.Request, v *view) {
	req, err := s.parseAssign(r.FormValue)
	if err != nil {
		writeError(w, r, err)
		return
	}
	res, err := s.assign(r.Context(), v, req)
	if err != nil {
		writeError(w, r, err)
		return
	}
	if s.cfg.Security.Write.Enabled() {
		token, err := security.Sign(s.cfg.Security.Write, res.Fid, time.Now())
		if err != nil {
			writeError(w, r, err)
			return
		}
		w.Header().Set("Authorization", "Bearer "+token)
	}
	writeJSON(w, r, http.StatusOK, res)
}

// assign picks a writable volume (growing the layout when none is left)
// and reserves req.count keys on it.
func (s *Server) assign(ctx context.Context, v *view, req assignRequest) (assignResult, error) {
	vid, locs, err := v.topo.PickForWrite(req.opt)
	if errors.Is(err, topology.ErrNoWritable) {
		vid, locs, err = s.growForAssign(ctx, v, req)
	}
	if err != nil {
		return assignResult{}, err
	}
	if v.topo.NeedsGrowth(req.opt.Key()) {
		// Every writable volume is crowded: grow ahead of need.
		s.startGrowth(v, req.opt, s.growCount(req), req.preallocate)
	}
	key, err := v.seq.Next(ctx, req.count)
	if err != nil {
		return assignResult{}, unavailable("no file key: %v", err)
	}
	loc := chooseLocation(locs, req.opt)
	fid := needle.FileID{VolumeID: vid, Key: key, Cookie: rand.Uint32()}
	return assignResult{Fid: fid.String(), URL: loc.URL, PublicURL: loc.PublicURL, Count: req.count}, nil
}

// chooseLocation picks the copy a client writes to: one matching the
// request's constraints, else a random one (the volume server forwards to
// the other copies).
func chooseLocation(locs []topology.Location, opt topology.WriteOption) topology.Location {
	if opt.DataNode != "" || opt.Rack != "" || opt.DataCenter != "" {
		for _, l := range locs {
			if (opt.DataNode == "" || l.URL == opt.DataNode) && (opt.Rack == "" || l.Rack == opt.Rack) &&
				(opt.DataCenter == "" || l.DataCenter == opt.DataCenter) {
				return l
			}
		}
	}
	if len(locs) == 1 {
		return locs[0]
	}
	return locs[rand.IntN(len(locs))]
}

func (s *Server) growCount(req assignRequest) int {
	if req.growCount > 0 {
		return req.growCount
	}
	return topology.GrowthCount(req.opt.Placement)
}

// growWait bounds how long an assign waits for the growth it started,
// as SeaweedFS's assign retries for up to 10 s.
const growWait = 10 * time.Second

// growForAssign grows the layout of an assign that found no writable
// volume, waits for it (bounded), and picks again.
func (s *Server) growForAssign(ctx context.Context, v *view, req assignRequest) (uint32, []topology.Location, error) {
	noWritable := func() error {
		return unavailable("no writable volumes for %s, volume growth in progress", describe(req.opt))
	}
	// An unknown data center, rack or node is the request's fault.
	if _, err := v.topo.PlanGrowth(req.opt, 0); err != nil {
		return 0, nil, growthError(err)
	}
	if wait := s.cfg.Pulse - time.Since(v.since); wait > 0 {
		// Volume servers may not all have reported to this new leader, so
		// growing now could add volumes it does not need: wait out the
		// first pulse (the first assign after a start is slow, not failed),
		// then look again.
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return 0, nil, unavailable("master is warming up, topology is still loading")
		}
		if cur := s.view.Load(); !cur.self || cur.term != v.term {
			return 0, nil, unavailable("leadership changed during the assign")
		}
		if vid, locs, err := v.topo.PickForWrite(req.opt); err == nil {
			return vid, locs, nil
		}
	}
	if v.topo.FreeSlots(req.opt.DiskType) <= 0 {
		return 0, nil, errorf(http.StatusNotAcceptable, "no free volumes left for %s", describe(req.opt))
	}
	job := s.startGrowth(v, req.opt, s.growCount(req), req.preallocate)
	timer := time.NewTimer(growWait)
	defer timer.Stop()
	select {
	case <-job.done:
	case <-timer.C:
		return 0, nil, noWritable()
	case <-ctx.Done():
		return 0, nil, unavailable("assign canceled: %v", ctx.Err())
	}
	vid, locs, err := v.topo.PickForWrite(req.opt)
	if err != nil {
		if job.err != nil {
			s.log.Info("growth could not satisfy an assign", "option", describe(req.opt), "err", job.err)
		}
		return 0, nil, noWritable()
	}
	return vid, locs, nil
}

// describe writes a write option as SeaweedFS's messages do.
func describe(o topology.WriteOption) string {
	var b strings.Builder
	b.WriteString("{collection:")
	b.WriteString(strconv.Quote(o.Collection))
	b.WriteString(" replication:")
	b.WriteString(o.Placement.String())
	b.WriteString(" ttl:")
	b.WriteString(strconv.Quote(o.TTL.String()))
	b.WriteString(" disk:")
	b.WriteString(topology.DiskTypeName(topology.NormalizeDiskType(o.DiskType)))
	if o.DataCenter != "" {
		b.WriteString(" dataCenter:" + o.DataCenter)
	}
	if o.Rack != "" {
		b.WriteString(" rack:" + o.Rack)
	}
	if o.DataNode != "" {
		b.WriteString(" dataNode:" + o.DataNode)
	}
	b.WriteString("}")
	return b.String()
}
