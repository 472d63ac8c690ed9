package master

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"

	"weedfs.dev/weed/pb"
)

// vacuumState allows one vacuum run at a time.
type vacuumState struct {
	running atomic.Bool
	runs    atomic.Uint64 // completed runs, for status and tests
}

// vacuumCandidate is a volume and the servers holding its copies.
type vacuumCandidate struct {
	id      uint32
	servers []string
}

// handleVacuum is /vol/vacuum: start a vacuum and answer at once with
// /dir/status (SeaweedFS held the request for the whole run).
func (s *Server) handleVacuum(w http.ResponseWriter, r *http.Request, v *view) {
	threshold := s.cfg.GarbageThreshold
	if raw := r.FormValue("garbageThreshold"); raw != "" {
		t, err := strconv.ParseFloat(raw, 64)
		if err != nil || t < 0 || t > 1 {
			writeError(w, r, errorf(http.StatusNotAcceptable, "garbageThreshold %s is not a ratio in [0, 1]", raw))
			return
		}
		threshold = t
	}
	s.startVacuum(v, threshold)
	writeJSON(w, r, http.StatusOK, s.dirStatus(v))
}

// startVacuum starts a vacuum in the background unless one is running.
func (s *Server) startVacuum(v *view, threshold float64) bool {
	if !s.vac.running.CompareAndSwap(false, true) {
		return false
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer s.vac.running.Store(false)
		n := s.vacuum(s.ctx, v, threshold)
		s.vac.runs.Add(1)
		s.log.Info("vacuum finished", "compacted", n, "threshold", threshold)
	}()
	return true
}

// VacuumRuns is the number of vacuum runs finished since New.
func (s *Server) VacuumRuns() uint64 { return s.vac.runs.Load() }

// vacuum compacts every volume whose copies all passed threshold, at most
// one volume per server at a time, and returns how many it compacted.
func (s *Server) vacuum(ctx context.Context, v *view, threshold float64) int {
	var cands []vacuumCandidate
	vm := v.topo.VolumeMap()
	ids := map[uint32]bool{}
	for _, racks := range vm.DataCenters {
		for _, nodes := range racks {
			for _, vols := range nodes {
				for _, vol := range vols {
					ids[vol.ID] = true
				}
			}
		}
	}
	for _, id := range slices.Sorted(maps.Keys(ids)) {
		st, ok := v.topo.VolumeState(id)
		if !ok || st.Replicas < st.Key.Placement.CopyCount() {
			continue // compacting needs every copy
		}
		locs, err := v.topo.Lookup(id, "")
		if err != nil {
			continue
		}
		c := vacuumCandidate{id: id}
		for _, l := range locs {
			c.servers = append(c.servers, l.URL)
		}
		cands = append(cands, c)
	}

	// Run every candidate whose servers are all idle; wait for one to
	// finish when none is. Taking any runnable candidate (not the next in
	// order) keeps a busy server from holding up the others.
	var mu sync.Mutex
	cond := sync.NewCond(&mu)
	busy := map[string]bool{}
	idle := func(c vacuumCandidate) bool {
		return !slices.ContainsFunc(c.servers, func(sv string) bool { return busy[sv] })
	}
	var wg sync.WaitGroup
	var compacted atomic.Int64
	pending := cands
	mu.Lock()
	for len(pending) > 0 && ctx.Err() == nil {
		i := slices.IndexFunc(pending, idle)
		if i < 0 {
			cond.Wait()
			continue
		}
		c := pending[i]
		pending = slices.Delete(pending, i, i+1)
		for _, sv := range c.servers {
			busy[sv] = true
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			did, err := s.vacuumVolume(ctx, v, c, threshold)
			if err != nil {
				s.log.Warn("vacuum of a volume failed", "volume", c.id, "err", err)
			} else if did {
				compacted.Add(1)
			}
			mu.Lock()
			for _, sv := range c.servers {
				delete(busy, sv)
			}
			cond.Broadcast()
			mu.Unlock()
		}()
	}
	mu.Unlock()
	wg.Wait()
	return int(compacted.Load())
}

// vacuumVolume checks, compacts and commits one volume on every copy, or
// cleans up every copy when a step fails. The volume takes no new assigns
// meanwhile; writes already assigned continue (the commit replays them).
func (s *Server) vacuumVolume(ctx context.Context, v *view, c vacuumCandidate, threshold float64) (bool, error) {
	var mu sync.Mutex
	ready := true
	err := onEach(c.servers, func(sv string) error {
		var resp pb.VacuumCheckResponse
		if err := s.admin(ctx, sv, pb.AdminVacuumCheck, &pb.VacuumCheckRequest{VolumeId: c.id}, &resp); err != nil {
			return err
		}
		if resp.GetGarbageRatio() <= threshold {
			mu.Lock()
			ready = false
			mu.Unlock()
		}
		return nil
	})
	if err != nil || !ready {
		return false, err
	}
	v.topo.SetReadOnlyMark(c.id, true)
	defer v.topo.SetReadOnlyMark(c.id, s.state.ReadOnly(c.id))

	err = onEach(c.servers, func(sv string) error {
		req := &pb.VacuumCompactRequest{VolumeId: c.id, Preallocate: s.cfg.VolumePreallocate}
		return s.admin(ctx, sv, pb.AdminVacuumCompact, req, &pb.VacuumCompactResponse{})
	})
	if err == nil {
		err = onEach(c.servers, func(sv string) error {
			return s.admin(ctx, sv, pb.AdminVacuumCommit, &pb.VacuumCommitRequest{VolumeId: c.id}, &pb.VacuumCommitResponse{})
		})
	}
	if err != nil {
		// Cleanup runs even when ctx ended: it only removes the new files.
		cleanup := context.WithoutCancel(ctx)
		cerr := onEach(c.servers, func(sv string) error {
			return s.admin(cleanup, sv, pb.AdminVacuumCleanup, &pb.VacuumCleanupRequest{VolumeId: c.id}, &pb.VacuumCleanupResponse{})
		})
		if cerr != nil {
			s.log.Warn("vacuum cleanup failed", "volume", c.id, "err", cerr)
		}
		return false, fmt.Errorf("master: vacuum volume %d: %w", c.id, err)
	}
	s.log.Info("volume vacuumed", "volume", c.id, "servers", c.servers)
	return true, nil
}
