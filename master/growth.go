package master

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"weedfs.dev/weed/master/state"
	"weedfs.dev/weed/master/topology"
	"weedfs.dev/weed/pb"
)

// growthState coalesces growth requests: one job per write option at a
// time, and one planning-and-allocating run at a time over all of them,
// because planning reserves nothing until the volumes are registered.
type growthState struct {
	mu   sync.Mutex
	jobs map[topology.WriteOption]*growJob
	run  sync.Mutex
}

func (g *growthState) init() { g.jobs = map[topology.WriteOption]*growJob{} }

// growJob is one background growth; done is closed when it ended.
type growJob struct {
	done    chan struct{}
	created int
	err     error
}

// startGrowth starts growing count volumes of opt's layout in the
// background, unless a growth for opt is already running (then it returns
// that one).
func (s *Server) startGrowth(v *view, opt topology.WriteOption, count int, prealloc int64) *growJob {
	s.growth.mu.Lock()
	defer s.growth.mu.Unlock()
	if j := s.growth.jobs[opt]; j != nil {
		return j
	}
	j := &growJob{done: make(chan struct{})}
	s.growth.jobs[opt] = j
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		j.created, j.err = s.grow(s.ctx, v, opt, count, prealloc, true)
		if j.err != nil {
			s.log.Warn("volume growth failed", "option", describe(opt), "created", j.created, "err", j.err)
		}
		s.growth.mu.Lock()
		delete(s.growth.jobs, opt)
		s.growth.mu.Unlock()
		close(j.done)
	}()
	return j
}

// grow creates up to count volumes of opt's layout: plan the copies, get
// ids through Raft, allocate on every chosen server, record each volume
// through Raft. With onlyIfNeeded, it does nothing when the layout no
// longer needs growth (another run just grew it). It returns how many
// volumes were created.
func (s *Server) grow(ctx context.Context, v *view, opt topology.WriteOption, count int, prealloc int64, onlyIfNeeded bool) (int, error) {
	s.growth.run.Lock()
	defer s.growth.run.Unlock()
	if onlyIfNeeded {
		// Another run may have grown the layout meanwhile. With placement
		// constraints, the layout may have writable volumes elsewhere but
		// none where asked.
		_, _, pickErr := v.topo.PickForWrite(opt)
		if pickErr == nil && !v.topo.NeedsGrowth(opt.Key()) {
			return 0, nil
		}
	}
	plans, planErr := v.topo.PlanGrowth(opt, count)
	if len(plans) == 0 {
		return 0, planErr
	}
	ids, err := s.nextVolumeIDs(ctx, len(plans), v.topo.MaxVolumeID()+1)
	if err != nil {
		return 0, err
	}
	if prealloc == 0 {
		prealloc = s.cfg.VolumePreallocate
	}
	created := 0
	var errs []error
	for i, plan := range plans {
		vid := ids.First + uint32(i)
		if err := s.allocate(ctx, v, vid, opt, plan, prealloc); err != nil {
			errs = append(errs, err)
			continue
		}
		created++
	}
	if planErr != nil {
		errs = append(errs, planErr)
	}
	return created, errors.Join(errs...)
}

// allocate creates volume vid on every server of plan, records it through
// Raft and registers it in the topology. A partial allocation is undone.
func (s *Server) allocate(ctx context.Context, v *view, vid uint32, opt topology.WriteOption, plan []topology.Location, prealloc int64) error {
	ttl := topology.TTLToUint32(opt.TTL)
	diskType := topology.NormalizeDiskType(opt.DiskType)
	req := &pb.AllocateVolumeRequest{
		VolumeId: vid, Collection: opt.Collection, Preallocate: prealloc,
		ReplicaPlacement: uint32(opt.Placement.Byte()), Ttl: ttl, DiskType: topology.DiskTypeName(diskType),
	}
	servers := make([]string, len(plan))
	for i, l := range plan {
		servers[i] = l.URL
	}
	var mu sync.Mutex
	var done []string
	err := onEach(servers, func(sv string) error {
		if err := s.admin(ctx, sv, pb.AdminAllocate, req, &pb.AllocateVolumeResponse{}); err != nil {
			return err
		}
		mu.Lock()
		done = append(done, sv)
		mu.Unlock()
		return nil
	})
	if err != nil {
		// Undo even when ctx ended (a client gave up on /vol/grow): an
		// allocated copy nobody records would only waste a slot.
		undo := context.WithoutCancel(ctx)
		for _, sv := range done {
			del := &pb.DeleteVolumeRequest{VolumeId: vid, OnlyEmpty: true}
			if derr := s.admin(undo, sv, pb.AdminDelete, del, &pb.DeleteVolumeResponse{}); derr != nil {
				s.log.Warn("undoing a partial allocation failed", "volume", vid, "server", sv, "err", derr)
			}
		}
		return fmt.Errorf("master: allocate volume %d: %w", vid, err)
	}
	rec := state.Volume{ID: vid, Collection: opt.Collection, ReplicaPlacement: uint32(opt.Placement.Byte()),
		TTL: ttl, DiskType: diskType, Servers: servers}
	if _, err := s.propose(ctx, state.CreateVolumeCommand(rec)); err != nil {
		// The servers hold the volume and will report it; only the record
		// is missing, which heartbeats make up for.
		s.log.Warn("recording a grown volume failed", "volume", vid, "err", err)
	}
	reported := s.awaitReports(ctx, v, vid, len(servers))
	for _, sv := range servers {
		if slices.ContainsFunc(reported, func(l topology.Location) bool { return l.URL == sv }) {
			continue
		}
		info := topology.VolumeInfo{ID: vid, Collection: opt.Collection, Placement: opt.Placement,
			TTL: opt.TTL, Version: 3, DiskType: diskType}
		if err := v.topo.AddVolume(sv, info); err != nil {
			s.log.Warn("registering a grown volume failed", "volume", vid, "server", sv, "err", err)
		}
	}
	s.log.Info("volume grown", "volume", vid, "collection", opt.Collection, "replication", opt.Placement.String(), "servers", servers)
	return nil
}

// awaitReports waits (at most two pulses) for the servers' own heartbeats
// to report a volume they just allocated; they beat at once after an
// allocation. Registering it before then would let a heartbeat built
// before the allocation, still in flight, remove it again for a moment.
// It returns the copies reported by then.
func (s *Server) awaitReports(ctx context.Context, v *view, vid uint32, copies int) []topology.Location {
	deadline := time.Now().Add(2 * s.cfg.Pulse)
	for {
		locs, _ := v.topo.Lookup(vid, "")
		if len(locs) >= copies || !time.Now().Before(deadline) || ctx.Err() != nil {
			return locs
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// growthError maps a planning error to the status SeaweedFS answers.
func growthError(err error) error {
	switch {
	case errors.Is(err, topology.ErrUnknownDataCenter), errors.Is(err, topology.ErrUnknownRack),
		errors.Is(err, topology.ErrUnknownDataNode):
		return errorf(http.StatusBadRequest, "%s", trimPrefix(err))
	case errors.Is(err, topology.ErrNoFreeSlots):
		return errorf(http.StatusNotAcceptable, "%s", trimPrefix(err))
	}
	return err
}

// trimPrefix drops the package prefixes of a lower layer's error, so a
// user reads "data center dc9 not found" as SeaweedFS writes it.
func trimPrefix(err error) string {
	msg := strings.TrimPrefix(err.Error(), "topology: ")
	if i := strings.Index(msg, ": topology: "); i >= 0 {
		msg = msg[:i]
	}
	return msg
}

// handleGrow is /vol/grow: grow count volumes now.
func (s *Server) handleGrow(w http.ResponseWriter, r *http.Request, v *view) {
	raw := r.FormValue("count")
	count, err := strconv.ParseUint(raw, 10, 32)
	if err != nil || count == 0 {
		writeError(w, r, errorf(http.StatusNotAcceptable, "can not parse parameter count %s", raw))
		return
	}
	req, err := s.parseAssign(r.FormValue)
	if err != nil {
		writeError(w, r, err)
		return
	}
	opt := req.opt
	if _, err := v.topo.PlanGrowth(opt, 0); err != nil {
		writeError(w, r, growthError(err))
		return
	}
	free := v.topo.FreeSlots(opt.DiskType)
	if need := count * uint64(opt.Placement.CopyCount()); uint64(free) < need {
		writeError(w, r, errorf(http.StatusNotAcceptable, "only %d volumes left, not enough for %d", free, need))
		return
	}
	// The server's context, not the request's: a client that gives up must
	// not leave volumes allocated but unrecorded.
	created, err := s.grow(s.ctx, v, opt, int(count), req.preallocate, false)
	if created == 0 && err != nil {
		writeError(w, r, growthError(err))
		return
	}
	writeJSON(w, r, http.StatusOK, struct {
		Count int `json:"count"`
	}{created})
}
