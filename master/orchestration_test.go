package master

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"weedfs.dev/weed/pb"
)

// fakeVolume is a volume server reduced to its admin calls: it records
// them, fails the ops it is told to, and reports what it holds when the
// test makes it beat. It stands for the layer below the master.
type fakeVolume struct {
	t    *testing.T
	addr string
	port int

	mu      sync.Mutex
	calls   []string // "op volume"
	fail    map[string]bool
	volumes map[uint32]*pb.VolumeInformation
	ratio   float64
	// gate, when set, holds every compaction until it is closed; inflight
	// and maxInflight count the compactions running on this server.
	gate                  chan struct{}
	inflight, maxInflight int
}

func newFakeVolume(t *testing.T) *fakeVolume {
	ln, port := listener(t)
	f := &fakeVolume{t: t, addr: "127.0.0.1:" + strconv.Itoa(port), port: port,
		fail: map[string]bool{}, volumes: map[uint32]*pb.VolumeInformation{}}
	srv := &http.Server{Handler: http.HandlerFunc(f.serve)}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return f
}

func (f *fakeVolume) serve(w http.ResponseWriter, r *http.Request) {
	op := strings.TrimPrefix(r.URL.Path, pb.AdminPrefix)
	body, _ := io.ReadAll(r.Body)
	var vid uint32
	var resp proto.Message
	f.mu.Lock()
	defer f.mu.Unlock()
	switch op {
	case pb.AdminAllocate:
		var req pb.AllocateVolumeRequest
		proto.Unmarshal(body, &req)
		vid = req.GetVolumeId()
		if !f.fail[op] {
			f.volumes[vid] = &pb.VolumeInformation{Id: vid, Collection: req.GetCollection(),
				ReplicaPlacement: req.GetReplicaPlacement(), Ttl: req.GetTtl(), Version: 3}
		}
		resp = &pb.AllocateVolumeResponse{}
	case pb.AdminDelete:
		var req pb.DeleteVolumeRequest
		proto.Unmarshal(body, &req)
		vid = req.GetVolumeId()
		delete(f.volumes, vid)
		resp = &pb.DeleteVolumeResponse{}
	case pb.AdminVacuumCheck:
		var req pb.VacuumCheckRequest
		proto.Unmarshal(body, &req)
		vid = req.GetVolumeId()
		resp = &pb.VacuumCheckResponse{GarbageRatio: f.ratio}
	case pb.AdminVacuumCompact:
		var req pb.VacuumCompactRequest
		proto.Unmarshal(body, &req)
		vid = req.GetVolumeId()
		resp = &pb.VacuumCompactResponse{}
		if gate := f.gate; gate != nil {
			f.inflight++
			f.maxInflight = max(f.maxInflight, f.inflight)
			f.mu.Unlock()
			<-gate
			f.mu.Lock()
			f.inflight--
		}
	case pb.AdminVacuumCommit:
		var req pb.VacuumCommitRequest
		proto.Unmarshal(body, &req)
		vid = req.GetVolumeId()
		resp = &pb.VacuumCommitResponse{}
	case pb.AdminVacuumCleanup:
		var req pb.VacuumCleanupRequest
		proto.Unmarshal(body, &req)
		vid = req.GetVolumeId()
		resp = &pb.VacuumCleanupResponse{}
	default:
		http.Error(w, `{"error":"no such op"}`, http.StatusNotFound)
		return
	}
	f.calls = append(f.calls, op+" "+strconv.Itoa(int(vid)))
	if f.fail[op] {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusInternalServerError)
		w.Write([]byte(`{"error":"disk on fire"}`))
		return
	}
	b, _ := proto.Marshal(resp)
	w.Header().Set("Content-Type", pb.ContentType)
	w.Write(b)
}

func (f *fakeVolume) setFail(op string, on bool) {
	f.mu.Lock()
	f.fail[op] = on
	f.mu.Unlock()
}

func (f *fakeVolume) callsOf(op string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, c := range f.calls {
		if strings.HasPrefix(c, op+" ") {
			out = append(out, c)
		}
	}
	return out
}

// keepBeating beats every pulse until the test ends.
func (f *fakeVolume) keepBeating(m *testMaster) {
	stop := make(chan struct{})
	done := make(chan struct{})
	f.t.Cleanup(func() { close(stop); <-done })
	go func() {
		defer close(done)
		t := time.NewTicker(testPulse / 2)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				f.beat(m)
			}
		}
	}()
}

// beat sends a full report to the master; errors show in the test's
// later checks.
func (f *fakeVolume) beat(m *testMaster) {
	f.mu.Lock()
	hb := &pb.Heartbeat{Ip: "127.0.0.1", Port: uint32(f.port), Full: true, Disks: []*pb.DiskCapacity{{MaxVolumeCount: 8}}}
	for _, v := range f.volumes {
		hb.Volumes = append(hb.Volumes, proto.Clone(v).(*pb.VolumeInformation))
	}
	f.mu.Unlock()
	b, _ := proto.Marshal(hb)
	resp, err := httpClient.Post("http://"+m.addr+pb.HeartbeatPath, pb.ContentType, bytes.NewReader(b))
	if err == nil {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}

func TestPartialAllocationIsUndone(t *testing.T) {
	m := oneMaster(t, Config{VacuumInterval: -1})
	good, bad := newFakeVolume(t), newFakeVolume(t)
	good.keepBeating(m)
	bad.keepBeating(m)
	waitNodes(t, m, 2)
	bad.setFail(pb.AdminAllocate, true)
	resp, b := get(t, m.addr, "/vol/grow", url.Values{"count": {"1"}, "replication": {"001"}})
	wantError(t, resp, b, http.StatusInternalServerError, "disk on fire")
	allocs := good.callsOf(pb.AdminAllocate)
	if len(allocs) != 1 || !slices.Equal(good.callsOf(pb.AdminDelete), []string{pb.AdminDelete + allocs[0][len(pb.AdminAllocate):]}) {
		t.Fatalf("good server calls: allocate %v, delete %v", allocs, good.callsOf(pb.AdminDelete))
	}
	if len(m.state.Volumes()) != 0 {
		t.Fatalf("a failed allocation was recorded: %v", m.state.Volumes())
	}
	// Once the server recovers, growth works and skips the spent id.
	bad.setFail(pb.AdminAllocate, false)
	resp, b = get(t, m.addr, "/vol/grow", url.Values{"count": {"1"}, "replication": {"001"}})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/vol/grow after recovery: %d %s", resp.StatusCode, b)
	}
	recs := m.state.Volumes()
	if len(recs) != 1 || recs[0].ID != 2 || len(recs[0].Servers) != 2 {
		t.Fatalf("records %+v, want volume 2 on both servers", recs)
	}
}

func TestVacuumCleansUpWhenCommitFails(t *testing.T) {
	m := oneMaster(t, Config{VacuumInterval: -1})
	a, b := newFakeVolume(t), newFakeVolume(t)
	a.keepBeating(m)
	b.keepBeating(m)
	waitNodes(t, m, 2)
	resp, body := get(t, m.addr, "/vol/grow", url.Values{"count": {"1"}, "replication": {"001"}})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/vol/grow: %d %s", resp.StatusCode, body)
	}
	for _, f := range []*fakeVolume{a, b} {
		f.mu.Lock()
		f.ratio = 0.8
		f.mu.Unlock()
	}
	b.setFail(pb.AdminVacuumCommit, true)
	runs := m.VacuumRuns()
	get(t, m.addr, "/vol/vacuum", nil)
	waitFor(t, 10*time.Second, "the vacuum run", func() bool { return m.VacuumRuns() > runs })
	for _, f := range []*fakeVolume{a, b} {
		if len(f.callsOf(pb.AdminVacuumCompact)) != 1 || len(f.callsOf(pb.AdminVacuumCleanup)) != 1 {
			t.Fatalf("server %s calls %v: want one compact and one cleanup", f.addr, f.calls)
		}
	}
	// The volume takes assigns again after the failed vacuum.
	if st, _ := m.Topology().VolumeState(1); !st.Writable {
		t.Fatalf("volume 1 after a failed vacuum: %+v", st)
	}

	// Below the threshold: checked, not compacted.
	b.setFail(pb.AdminVacuumCommit, false)
	b.mu.Lock()
	b.ratio = 0.1
	b.mu.Unlock()
	runs = m.VacuumRuns()
	get(t, m.addr, "/vol/vacuum", nil)
	waitFor(t, 10*time.Second, "the second vacuum run", func() bool { return m.VacuumRuns() > runs })
	if n := len(a.callsOf(pb.AdminVacuumCompact)); n != 1 {
		t.Fatalf("a copy below the threshold was compacted (%d compacts)", n)
	}
}

func TestAutomaticVacuum(t *testing.T) {
	m := oneMaster(t, Config{VacuumInterval: 50 * time.Millisecond})
	f := newFakeVolume(t)
	f.keepBeating(m)
	waitNodes(t, m, 1)
	if resp, b := get(t, m.addr, "/vol/grow", url.Values{"count": {"2"}}); resp.StatusCode != http.StatusOK {
		t.Fatalf("/vol/grow: %d %s", resp.StatusCode, b)
	}
	f.mu.Lock()
	f.ratio = 0.5
	f.mu.Unlock()
	waitFor(t, 10*time.Second, "automatic commits of both volumes", func() bool {
		c := f.callsOf(pb.AdminVacuumCommit)
		return slices.Contains(c, pb.AdminVacuumCommit+" 1") && slices.Contains(c, pb.AdminVacuumCommit+" 2")
	})
}

func TestVacuumRunsOneVolumePerServerAtATime(t *testing.T) {
	m := oneMaster(t, Config{VacuumInterval: -1})
	a, b := newFakeVolume(t), newFakeVolume(t)
	gate := make(chan struct{})
	var release sync.Once
	t.Cleanup(func() { release.Do(func() { close(gate) }) })
	for _, f := range []*fakeVolume{a, b} {
		f.mu.Lock()
		f.ratio, f.gate = 0.9, gate
		f.mu.Unlock()
		f.keepBeating(m)
	}
	waitNodes(t, m, 2)
	// Three volumes on each server.
	for _, f := range []*fakeVolume{a, b} {
		resp, body := get(t, m.addr, "/vol/grow", url.Values{"count": {"3"}, "dataNode": {f.addr}})
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("/vol/grow on %s: %d %s", f.addr, resp.StatusCode, body)
		}
	}
	inflight := func() (int, int) {
		a.mu.Lock()
		defer a.mu.Unlock()
		b.mu.Lock()
		defer b.mu.Unlock()
		return a.inflight, b.inflight
	}
	// The /vol/vacuum call answers while compactions are held.
	get(t, m.addr, "/vol/vacuum", nil)
	// Both servers compact at once: volumes on different servers run in
	// parallel.
	waitFor(t, 10*time.Second, "a compaction on each server", func() bool {
		x, y := inflight()
		return x == 1 && y == 1
	})
	release.Do(func() { close(gate) })
	waitFor(t, 10*time.Second, "the vacuum run", func() bool { return m.VacuumRuns() > 0 })
	for _, f := range []*fakeVolume{a, b} {
		f.mu.Lock()
		most := f.maxInflight
		f.mu.Unlock()
		if n := len(f.callsOf(pb.AdminVacuumCommit)); n != 3 || most != 1 {
			t.Fatalf("server %s: %d commits, at most %d compactions at once; want 3 and 1", f.addr, n, most)
		}
	}
}
