package httptransport

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"weedfs.dev/weed/raft/raftpb"
)

// FuzzHandler posts arbitrary bodies to both routes: the handler answers
// 204 or a 4xx and never panics; whatever it passes on is addressed to this
// peer and cluster.
func FuzzHandler(f *testing.F) {
	good, _ := appendFrame(nil, &raftpb.Message{Type: raftpb.MessageType_MSG_HEARTBEAT, ClusterId: testCluster, From: 1, To: 2, Term: 1})
	snap, _ := appendFrame(nil, &raftpb.SnapshotChunk{Message: &raftpb.Message{Type: raftpb.MessageType_MSG_SNAP, ClusterId: testCluster, From: 1, To: 2, Term: 1, Snapshot: &raftpb.SnapshotMeta{Index: 4}}, Data: []byte("ab"), Last: true})
	f.Add(false, good)
	f.Add(true, snap)
	f.Add(true, snap[:len(snap)-1])
	f.Add(false, []byte{0, 0, 0, 1, 0xff})
	f.Fuzz(func(t *testing.T, snapshot bool, body []byte) {
		tr := New(Config{ID: 2, ClusterID: testCluster})
		defer tr.Close()
		rec := newRecorder()
		tr.SetHandler(rec)
		route := "stream"
		if snapshot {
			route = "snapshot"
		}
		req := httptest.NewRequest(http.MethodPost, DefaultPathPrefix+route, bytes.NewReader(body))
		req.Header.Set(HeaderClusterID, strconv.Itoa(testCluster))
		w := httptest.NewRecorder()
		tr.Handler().ServeHTTP(w, req)
		if w.Code != http.StatusNoContent && w.Code != http.StatusBadRequest {
			t.Fatalf("status %d for a peer body", w.Code)
		}
		for _, m := range rec.msgs {
			if m.To != 2 || m.ClusterId != testCluster {
				t.Fatalf("passed on a message to %d of cluster %d", m.To, m.ClusterId)
			}
		}
	})
}
