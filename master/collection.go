package master

import (
	"errors"
	"net/http"

	"weedfs.dev/weed/master/state"
	"weedfs.dev/weed/master/topology"
	"weedfs.dev/weed/pb"
)

// handleDeleteCollection is /col/delete: every server holding the
// collection deletes its volumes, then the records and the view drop it.
func (s *Server) handleDeleteCollection(w http.ResponseWriter, r *http.Request, v *view) {
	name := r.FormValue("collection")
	if name == "" {
		// The default collection holds every volume without one: refuse
		// to delete it by a missing parameter.
		writeError(w, r, errorf(http.StatusBadRequest, "collection name is required"))
		return
	}
	servers, err := v.topo.CollectionServers(name)
	if errors.Is(err, topology.ErrUnknownCollection) {
		writeError(w, r, errorf(http.StatusBadRequest, "collection %s does not exist", name))
		return
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	err = onEach(servers, func(sv string) error {
		return s.admin(r.Context(), sv, pb.AdminDeleteCollection, &pb.DeleteCollectionRequest{Collection: name}, &pb.DeleteCollectionResponse{})
	})
	if err != nil {
		writeError(w, r, err)
		return
	}
	if _, err := s.propose(r.Context(), state.DeleteCollectionCommand(name)); err != nil {
		writeError(w, r, err)
		return
	}
	if _, err := v.topo.DeleteCollection(name); err != nil && !errors.Is(err, topology.ErrUnknownCollection) {
		writeError(w, r, err)
		return
	}
	s.log.Info("collection deleted", "collection", name, "servers", servers)
	w.WriteHeader(http.StatusNoContent)
}

// collectionInfo is /collection/info's reply.
type collectionInfo struct {
	topology.CollectionStats
	Version string `json:"Version"`
}

func (s *Server) handleCollectionInfo(w http.ResponseWriter, r *http.Request, v *view) {
	name := r.FormValue("collection")
	st, err := v.topo.CollectionStats(name)
	if err != nil {
		writeError(w, r, errorf(http.StatusBadRequest, "collection %s does not exist", name))
		return
	}
	writeJSON(w, r, http.StatusOK, collectionInfo{CollectionStats: st, Version: s.cfg.Version})
}
