package master

import (
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"weedfs.dev/weed/master/topology"
	"weedfs.dev/weed/security"
)

// lookupLocation is one copy in /dir/lookup's reply.
type lookupLocation struct {
	URL        string `json:"url"`
	PublicURL  string `json:"publicUrl"`
	DataCenter string `json:"dataCenter"`
}

type lookupResult struct {
	VolumeOrFileID string           `json:"volumeOrFileId"`
	Locations      []lookupLocation `json:"locations,omitempty"`
	Error          string           `json:"error,omitempty"`
}

// volumePart returns the volume id text of a volume id or file id.
func volumePart(s string) string {
	if i := strings.IndexByte(s, ','); i >= 0 {
		return s[:i]
	}
	return s
}

// lookupQuery is a parsed /dir/lookup request.
type lookupQuery struct {
	fileID, vidText, collection string
	vid                         uint32
	ok                          bool // vidText is a volume id
}

func parseLookup(r *http.Request) lookupQuery {
	q := lookupQuery{fileID: r.FormValue("fileId"), vidText: r.FormValue("volumeId"), collection: r.FormValue("collection")}
	if q.fileID != "" {
		q.vidText = q.fileID
	}
	q.vidText = volumePart(q.vidText)
	vid, err := strconv.ParseUint(q.vidText, 10, 32)
	q.vid, q.ok = uint32(vid), err == nil
	return q
}

// serveLookup is /dir/lookup. The leader answers from its view; a follower
// answers from the answers it recently forwarded when it has this one,
// forwards to the leader otherwise, and falls back to its own view when
// the leader cannot be reached.
func (s *Server) serveLookup(w http.ResponseWriter, r *http.Request) {
	v := s.view.Load()
	if v.self {
		s.handleLookup(w, r, v)
		return
	}
	q := parseLookup(r)
	if q.ok {
		if locs, hit := s.lookups.get(q.vid, q.collection, time.Now()); hit {
			s.answerLookup(w, r, q, locs)
			return
		}
	}
	s.forward(w, r, v, func(w http.ResponseWriter, r *http.Request) { s.handleLookup(w, r, v) })
}

func (s *Server) handleLookup(w http.ResponseWriter, r *http.Request, v *view) {
	q := parseLookup(r)
	if !q.ok {
		writeJSON(w, r, http.StatusNotFound, lookupResult{VolumeOrFileID: q.vidText, Error: "unknown volume id " + q.vidText})
		return
	}
	found, err := v.topo.Lookup(q.vid, q.collection)
	if err != nil || len(found) == 0 {
		if err := s.viewIncomplete(v); err != nil {
			writeError(w, r, err)
			return
		}
		writeJSON(w, r, http.StatusNotFound, lookupResult{VolumeOrFileID: q.vidText, Error: "volume id " + q.vidText + " not found"})
		return
	}
	locs := make([]lookupLocation, len(found))
	for i, l := range found {
		locs[i] = lookupLocation{URL: l.URL, PublicURL: l.PublicURL, DataCenter: l.DataCenter}
	}
	s.answerLookup(w, r, q, locs)
}

// answerLookup writes a found volume's locations, with a token for a
// fileId lookup when the cluster signs them.
func (s *Server) answerLookup(w http.ResponseWriter, r *http.Request, q lookupQuery, locs []lookupLocation) {
	if q.fileID != "" {
		key := s.cfg.Security.Write
		if r.FormValue("read") == "yes" {
			key = s.cfg.Security.Read
		}
		if key.Enabled() {
			token, err := security.Sign(key, q.fileID, time.Now())
			if err != nil {
				writeError(w, r, err)
				return
			}
			w.Header().Set("Authorization", "Bearer "+token)
		}
	}
	writeJSON(w, r, http.StatusOK, lookupResult{VolumeOrFileID: q.vidText, Locations: locs})
}

// handleRedirect sends GET /<fid> to a volume server holding it.
func (s *Server) handleRedirect(w http.ResponseWriter, r *http.Request, v *view) {
	path := strings.TrimPrefix(r.URL.Path, "/")
	vidText, rest, ok := strings.Cut(path, ",")
	if !ok || rest == "" {
		// "/3/01637037d6" is SeaweedFS's other fid form.
		vidText, rest, ok = strings.Cut(path, "/")
	}
	vid, err := strconv.ParseUint(vidText, 10, 32)
	if !ok || rest == "" || err != nil {
		writeError(w, r, errorf(http.StatusNotFound, "%s is not a file id", r.URL.Path))
		return
	}
	locs, err := v.topo.Lookup(uint32(vid), "")
	if err != nil || len(locs) == 0 {
		if err := s.viewIncomplete(v); err != nil {
			writeError(w, r, err)
			return
		}
		writeError(w, r, errorf(http.StatusNotFound, "volume id %d not found", vid))
		return
	}
	loc := locs[rand.IntN(len(locs))]
	target := "http://" + loc.PublicURL + "/" + path
	if r.URL.RawQuery != "" {
		target += "?" + r.URL.RawQuery
	}
	w.Header().Set("Location", target)
	w.WriteHeader(http.StatusPermanentRedirect)
}

// dirStatus is /dir/status's reply.
type dirStatus struct {
	Version    string        `json:"Version"`
	TopologyID string        `json:"TopologyId"`
	Topology   topology.Info `json:"Topology"`
	// Ours, beyond SeaweedFS's fields: with Topology.Max they give a
	// capacity (a mount's statfs).
	VolumeSizeLimit uint64 `json:"VolumeSizeLimit"`
	UsedSize        uint64 `json:"UsedSize"`
}

func (s *Server) dirStatus(v *view) dirStatus {
	return dirStatus{Version: s.cfg.Version, TopologyID: strconv.FormatUint(s.raftClusterID(), 16), Topology: v.topo.Info(),
		VolumeSizeLimit: s.sizeLimit, UsedSize: v.topo.UsedSize()}
}

func (s *Server) handleDirStatus(w http.ResponseWriter, r *http.Request, v *view) {
	writeJSON(w, r, http.StatusOK, s.dirStatus(v))
}

func (s *Server) handleVolStatus(w http.ResponseWriter, r *http.Request, v *view) {
	writeJSON(w, r, http.StatusOK, struct {
		Version string             `json:"Version"`
		Volumes topology.VolumeMap `json:"Volumes"`
	}{s.cfg.Version, v.topo.VolumeMap()})
}

// viewIncomplete says why a volume missing from v may still exist: this
// master just became leader and not every server has reported yet, or it
// is a follower answering from its own view because no leader answered.
func (s *Server) viewIncomplete(v *view) error {
	switch {
	case v.self && (!v.ready || time.Since(v.since) < s.cfg.Pulse):
		return unavailable("master is warming up, topology is still loading")
	case !v.self:
		return unavailable("no leader: %v", ErrNoLeader)
	}
	return nil
}
