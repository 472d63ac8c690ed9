package master

import (
	"net/http"
)

// clusterStatus is /cluster/status's reply (SeaweedFS's field names).
type clusterStatus struct {
	IsLeader    bool     `json:"IsLeader,omitempty"`
	Leader      string   `json:"Leader,omitempty"`
	Peers       []string `json:"Peers,omitempty"`
	MaxVolumeID uint32   `json:"MaxVolumeId,omitempty"`
}

func (s *Server) handleClusterStatus(w http.ResponseWriter, r *http.Request) {
	v := s.view.Load()
	writeJSON(w, r, http.StatusOK, clusterStatus{
		IsLeader: v.self, Leader: v.leaderAddr, Peers: s.otherPeers(), MaxVolumeID: s.state.MaxVolumeID(),
	})
}

// handleClusterHealth answers 200 while a leader is known, 503 otherwise.
func (s *Server) handleClusterHealth(w http.ResponseWriter, r *http.Request) {
	if s.view.Load().leaderAddr == "" {
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// handleHealth is liveness: the process answers.
func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	w.WriteHeader(http.StatusOK)
}
