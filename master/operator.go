package master

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"

	"weedfs.dev/weed/master/state"
	"weedfs.dev/weed/master/topology"
	"weedfs.dev/weed/pb"
)

// The operator endpoints behind `weed shell`: marking volumes read-only or
// writable (recorded through Raft, so a new leader keeps the mark),
// listing collections, re-creating missing replicas and balancing volumes
// across servers. They are ours, not SeaweedFS's (its shell speaks gRPC).

// handleCollectionList answers {"collections": [...]}.
func (s *Server) handleCollectionList(w http.ResponseWriter, r *http.Request, v *view) {
	cols := v.topo.Collections()
	if cols == nil {
		cols = []string{}
	}
	writeJSON(w, r, http.StatusOK, map[string][]string{"collections": cols})
}

// handleMark marks a volume read-only (readonly=true) or writable on every
// server holding it and records the operator's mark through Raft.
func (s *Server) handleMark(w http.ResponseWriter, r *http.Request, v *view) {
	id, err := strconv.ParseUint(r.FormValue("volumeId"), 10, 32)
	if err != nil {
		writeError(w, r, errorf(http.StatusBadRequest, "volumeId: %v", err))
		return
	}
	readOnly, err := strconv.ParseBool(r.FormValue("readonly"))
	if err != nil {
		writeError(w, r, errorf(http.StatusBadRequest, "readonly must be true or false"))
		return
	}
	locs, err := v.topo.Lookup(uint32(id), "")
	if err != nil {
		writeError(w, r, errorf(http.StatusNotFound, "volume id %d not found", id))
		return
	}
	if err := s.markOn(r.Context(), locs, uint32(id), readOnly); err != nil {
		writeError(w, r, err)
		return
	}
	if _, err := s.propose(r.Context(), state.MarkReadOnlyCommand(uint32(id), readOnly)); err != nil {
		writeError(w, r, err)
		return
	}
	v.topo.SetReadOnlyMark(uint32(id), readOnly)
	writeJSON(w, r, http.StatusOK, map[string]any{"volumeId": id, "readOnly": readOnly})
}

// markOn sets the read-only flag of volume id on each of locs.
func (s *Server) markOn(ctx context.Context, locs []topology.Location, id uint32, readOnly bool) error {
	urls := make([]string, len(locs))
	for i, l := range locs {
		urls[i] = l.URL
	}
	return onEach(urls, func(sv string) error {
		if readOnly {
			return s.admin(ctx, sv, pb.AdminReadonly, &pb.MarkReadonlyRequest{VolumeId: id, Persist: true}, &pb.MarkReadonlyResponse{})
		}
		return s.admin(ctx, sv, pb.AdminWritable, &pb.MarkWritableRequest{VolumeId: id}, &pb.MarkWritableResponse{})
	})
}

// replicaFix is one copy made (or attempted) by fix.replication.
type replicaFix struct {
	Volume uint32 `json:"volume"`
	From   string `json:"from,omitempty"`
	To     string `json:"to,omitempty"`
	Error  string `json:"error,omitempty"`
}

// handleFixReplication copies every volume that lacks copies from a live
// copy to a server the placement allows. ?volumeId= limits it to one.
func (s *Server) handleFixReplication(w http.ResponseWriter, r *http.Request, v *view) {
	only := uint64(0)
	if q := r.FormValue("volumeId"); q != "" {
		var err error
		if only, err = strconv.ParseUint(q, 10, 32); err != nil {
			writeError(w, r, errorf(http.StatusBadRequest, "volumeId: %v", err))
			return
		}
	}
	fixes := []replicaFix{}
	for _, gap := range v.topo.UnderReplicated() {
		if only != 0 && uint64(gap.ID) != only || len(gap.Have) == 0 {
			continue
		}
		for i := 0; i < gap.Missing; i++ {
			fix := replicaFix{Volume: gap.ID, From: gap.Have[0].URL}
			target, err := v.topo.PlanReplica(gap.ID)
			if err == nil {
				fix.To = target.URL
				err = s.copyVolume(r.Context(), v, gap.ID, gap.Key, fix.From, fix.To)
			}
			if err != nil {
				fix.Error = err.Error()
				fixes = append(fixes, fix)
				break
			}
			fixes = append(fixes, fix)
		}
	}
	s.log.Info("replication fixed", "copies", len(fixes))
	writeJSON(w, r, http.StatusOK, map[string]any{"fixes": fixes})
}

// copyVolume makes to hold a copy of volume id taken from from, and
// registers it in the topology at once (its heartbeat confirms it).
func (s *Server) copyVolume(ctx context.Context, v *view, id uint32, key topology.LayoutKey, from, to string) error {
	req := &pb.VolumeCopyRequest{VolumeId: id, Collection: key.Collection, SourceDataNode: from,
		ReplicaPlacement: uint32(key.Placement.Byte()), Ttl: topology.TTLToUint32(key.TTL), DiskType: topology.DiskTypeName(key.DiskType)}
	if err := s.admin(ctx, to, pb.AdminVolumeCopy, req, &pb.VolumeCopyResponse{}); err != nil {
		return err
	}
	return v.topo.AddVolume(to, topology.VolumeInfo{ID: id, Collection: key.Collection, Placement: key.Placement,
		TTL: key.TTL, Version: 3, DiskType: key.DiskType})
}

// volumeMove is one move made by balance.
type volumeMove struct {
	Volume uint32 `json:"volume"`
	From   string `json:"from"`
	To     string `json:"to"`
}

// handleBalance moves volumes from the servers holding the most (for their
// slots) to those holding the fewest, keeping every volume's placement, until
// no server holds more than one volume above another. Each moved volume is
// read-only while it moves, so no write lands on a copy being left.
func (s *Server) handleBalance(w http.ResponseWriter, r *http.Request, v *view) {
	moves := []volumeMove{}
	holders := map[uint32][]string{}
	count := map[string]int{}
	var servers []string
	loc := map[string]topology.Location{}
	for _, n := range v.topo.Nodes() {
		if !n.Alive {
			continue
		}
		servers = append(servers, n.URL)
		loc[n.URL] = n.Location
		count[n.URL] = len(n.Volumes)
		for _, id := range n.Volumes {
			holders[id] = append(holders[id], n.URL)
		}
	}
	for len(servers) > 1 && len(moves) < 1000 {
		slices.SortFunc(servers, func(a, b string) int { return count[b] - count[a] })
		src, moved := servers[0], false
		for _, dst := range slices.Backward(servers) {
			if count[src]-count[dst] <= 1 {
				break
			}
			id, key, ok := s.movable(v, src, dst, holders, loc)
			if !ok {
				continue
			}
			if err := s.moveVolume(r.Context(), v, id, key, src, dst, holders[id]); err != nil {
				writeJSON(w, r, http.StatusInternalServerError, map[string]any{"moves": moves, "error": err.Error()})
				return
			}
			holders[id] = append(slices.DeleteFunc(holders[id], func(u string) bool { return u == src }), dst)
			count[src]--
			count[dst]++
			moves = append(moves, volumeMove{Volume: id, From: src, To: dst})
			moved = true
			break
		}
		if !moved {
			break
		}
	}
	s.log.Info("volumes balanced", "moves", len(moves))
	writeJSON(w, r, http.StatusOK, map[string]any{"moves": moves})
}

// movable finds a volume on src that dst lacks and whose copies still fit
// its placement with dst in place of src.
func (s *Server) movable(v *view, src, dst string, holders map[uint32][]string, loc map[string]topology.Location) (uint32, topology.LayoutKey, bool) {
	ids := make([]uint32, 0, len(holders))
	for id := range holders {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		hs := holders[id]
		if !slices.Contains(hs, src) || slices.Contains(hs, dst) {
			continue
		}
		st, ok := v.topo.VolumeState(id)
		if !ok {
			continue
		}
		set := []topology.Location{loc[dst]}
		for _, h := range hs {
			if h != src {
				set = append(set, loc[h])
			}
		}
		if topology.FitsPlacement(set, st.Key.Placement) {
			return id, st.Key, true
		}
	}
	return 0, topology.LayoutKey{}, false
}

// moveVolume copies id from src to dst, then deletes it from src. Every
// copy is read-only meanwhile and writable again after (unless an operator
// marked it read-only).
func (s *Server) moveVolume(ctx context.Context, v *view, id uint32, key topology.LayoutKey, src, dst string, holders []string) error {
	st, _ := v.topo.VolumeState(id)
	locs := make([]topology.Location, len(holders))
	for i, h := range holders {
		locs[i] = topology.Location{URL: h}
	}
	if !st.ReadOnly {
		if err := s.markOn(ctx, locs, id, true); err != nil {
			return fmt.Errorf("move volume %d: %w", id, err)
		}
	}
	copied := s.copyVolume(ctx, v, id, key, src, dst)
	err := copied
	if err == nil {
		err = s.admin(ctx, src, pb.AdminDelete, &pb.DeleteVolumeRequest{VolumeId: id}, &pb.DeleteVolumeResponse{})
	}
	if !st.ReadOnly {
		// Writable again wherever a copy is left.
		after := locs
		if copied == nil {
			after = append(after, topology.Location{URL: dst})
		}
		if err == nil {
			after = slices.DeleteFunc(after, func(l topology.Location) bool { return l.URL == src })
		}
		if werr := s.markOn(ctx, after, id, false); werr != nil && err == nil {
			err = werr
		}
	}
	if err != nil {
		return fmt.Errorf("move volume %d from %s to %s: %w", id, src, dst, err)
	}
	return nil
}
