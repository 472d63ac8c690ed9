package master

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"google.golang.org/protobuf/proto"

	"weedfs.dev/weed/pb"
)

// FuzzHeartbeat posts arbitrary bytes as a heartbeat to a leader: it must
// answer 200 with a HeartbeatResponse or 400, and never panic.
func FuzzHeartbeat(f *testing.F) {
	m := oneMaster(f, Config{VacuumInterval: -1})
	seed := func(hb *pb.Heartbeat) {
		b, err := proto.Marshal(hb)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	seed(&pb.Heartbeat{Ip: "127.0.0.1", Port: 8080, Full: true, Disks: []*pb.DiskCapacity{{MaxVolumeCount: 8}},
		Volumes: []*pb.VolumeInformation{{Id: 1, Size: 100, ReplicaPlacement: 1, Ttl: 3<<8 | 3, Version: 3}}})
	seed(&pb.Heartbeat{Ip: "127.0.0.1", Port: 8081, NewVolumes: []*pb.VolumeShortInformation{{Id: 2, Collection: "c"}},
		DeletedVolumes: []*pb.VolumeShortInformation{{Id: 1}}})
	seed(&pb.Heartbeat{Ip: "127.0.0.1", Port: 8082, Full: true, Volumes: []*pb.VolumeInformation{{Id: 1, ReplicaPlacement: 999}}})
	seed(&pb.Heartbeat{})
	f.Add([]byte{0xff, 0x01, 0x02})
	f.Fuzz(func(t *testing.T, body []byte) {
		rec := httptest.NewRecorder()
		m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodPost, pb.HeartbeatPath, bytes.NewReader(body)))
		switch rec.Code {
		case http.StatusOK:
			var resp pb.HeartbeatResponse
			if err := proto.Unmarshal(rec.Body.Bytes(), &resp); err != nil || resp.GetLeader() != m.addr {
				t.Fatalf("200 with reply %v, %v", &resp, err)
			}
		case http.StatusBadRequest:
		default:
			t.Fatalf("status %d: %s", rec.Code, rec.Body.Bytes())
		}
	})
}

// FuzzAssignQuery sends arbitrary query strings to /dir/assign: every
// answer is JSON, and an error answer has one of SeaweedFS's statuses.
func FuzzAssignQuery(f *testing.F) {
	m := oneMaster(f, Config{VacuumInterval: -1, MaxAssignCount: 100})
	for _, q := range []string{"", "count=3", "replication=001&ttl=3d", "replication=abc", "ttl=3x", "count=-1&collection=a",
		"dataCenter=dc1&rack=r1&dataNode=x:1", "disk=ssd&writableVolumeCount=2&preallocate=99", "count=18446744073709551615", "%zz"} {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, q string) {
		maxVID, maxKey := m.state.MaxVolumeID(), m.state.MaxKey()
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodGet, "/dir/assign", nil)
		req.URL.RawQuery = q
		m.Handler().ServeHTTP(rec, req)
		var body map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			t.Fatalf("status %d with a non-JSON body %q", rec.Code, rec.Body.Bytes())
		}
		switch rec.Code {
		case http.StatusBadRequest, http.StatusNotAcceptable, http.StatusServiceUnavailable:
			if _, ok := body["error"]; !ok {
				t.Fatalf("status %d without an error: %s", rec.Code, rec.Body.Bytes())
			}
		default:
			t.Fatalf("status %d: %s", rec.Code, rec.Body.Bytes())
		}
		// No volume server: nothing can be assigned or grown.
		if m.state.MaxVolumeID() != maxVID || m.state.MaxKey() != maxKey {
			t.Fatalf("query %q changed the replicated state", q)
		}
	})
}
