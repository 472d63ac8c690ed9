package master

import (
	"io"
	"net/http"
	"time"

	"google.golang.org/protobuf/proto"

	"weedfs.dev/weed/pb"
)

// maxHeartbeatBytes bounds a heartbeat body: a full report of thousands
// of volumes is well under it.
const maxHeartbeatBytes = 64 << 20

// handleHeartbeat takes a volume server's report. A follower answers with
// the leader's address and does not process it; with no leader known it
// answers 503 so the server tries another master.
func (s *Server) handleHeartbeat(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeError(w, r, errorf(http.StatusMethodNotAllowed, "heartbeats are POST"))
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxHeartbeatBytes+1))
	if err != nil {
		writeError(w, r, errorf(http.StatusBadRequest, "reading heartbeat: %v", err))
		return
	}
	if len(body) > maxHeartbeatBytes {
		writeError(w, r, errorf(http.StatusRequestEntityTooLarge, "heartbeat larger than %d bytes", maxHeartbeatBytes))
		return
	}
	var hb pb.Heartbeat
	if err := proto.Unmarshal(body, &hb); err != nil {
		writeError(w, r, errorf(http.StatusBadRequest, "bad heartbeat: %v", err))
		return
	}
	v := s.view.Load()
	resp := &pb.HeartbeatResponse{VolumeSizeLimit: s.sizeLimit, Peers: s.members}
	if !v.self {
		if v.leaderAddr == "" {
			writeError(w, r, unavailable("no leader: %v", ErrNoLeader))
			return
		}
		resp.Leader = v.leaderAddr
		writeProto(w, resp)
		return
	}
	res, err := v.topo.ProcessHeartbeat(&hb, time.Now())
	if err != nil {
		writeError(w, r, errorf(http.StatusBadRequest, "%v", err))
		return
	}
	// The view may have become ready meanwhile: load it again so the new
	// sequencer learns of the keys this server holds.
	if cur := s.view.Load(); cur.seq != nil {
		cur.seq.Observe(res.MaxFileKey)
	}
	if len(res.Duplicates) > 0 || len(res.Rejected) > 0 {
		s.log.Warn("heartbeat with conflicting volumes", "server", res.URL, "duplicates", res.Duplicates, "rejected", res.Rejected)
	}
	resp.Leader = s.self
	resp.DuplicatedVolumeIds = res.Duplicates
	writeProto(w, resp)
}

func writeProto(w http.ResponseWriter, m proto.Message) {
	b, err := proto.Marshal(m)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", pb.ContentType)
	w.Write(b)
}
