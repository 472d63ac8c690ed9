package growth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"weedfs.dev/weed/master/state"
	"weedfs.dev/weed/master/topology"
	"weedfs.dev/weed/pb"
	"weedfs.dev/weed/raft/raftpb"
	"weedfs.dev/weed/storage/needle"
	"weedfs.dev/weed/storage/superblock"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// localProposer applies commands to a State in order, as a committed
// single-node Raft log would.
type localProposer struct {
	mu    sync.Mutex
	s     *state.State
	index uint64
}

func (p *localProposer) Propose(_ context.Context, cmd []byte) (any, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.index++
	return p.s.Apply(&raftpb.Entry{Index: p.index, Term: 1, Data: cmd}), nil
}

// fakeServers is an in-memory set of volume servers answering admin calls.
type fakeServers struct {
	mu      sync.Mutex
	volumes map[string]map[uint32]*pb.AllocateVolumeRequest
	fail    map[string]bool // servers whose allocations fail
	calls   int
	gate    chan struct{} // if set, each allocation waits for it
	entered chan struct{} // if set, signalled when an allocation starts
}

func newFakeServers() *fakeServers {
	return &fakeServers{volumes: map[string]map[uint32]*pb.AllocateVolumeRequest{}, fail: map[string]bool{}}
}

func (f *fakeServers) AllocateVolume(ctx context.Context, url string, req *pb.AllocateVolumeRequest) error {
	if f.entered != nil {
		f.entered <- struct{}{}
	}
	if f.gate != nil {
		select {
		case <-f.gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.fail[url] {
		return fmt.Errorf("server %s: disk full", url)
	}
	if f.volumes[url] == nil {
		f.volumes[url] = map[uint32]*pb.AllocateVolumeRequest{}
	}
	f.volumes[url][req.GetVolumeId()] = req
	return nil
}

func (f *fakeServers) DeleteVolume(_ context.Context, url string, req *pb.DeleteVolumeRequest) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.volumes[url], req.GetVolumeId())
	return nil
}

func (f *fakeServers) holders(id uint32) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for url, vols := range f.volumes {
		if vols[id] != nil {
			out = append(out, url)
		}
	}
	slices.Sort(out)
	return out
}

type fixture struct {
	topo    *topology.Topology
	st      *state.State
	servers *fakeServers
	g       *Grower
}

func newFixture(t *testing.T, racks int, perRack int, slots uint32) *fixture {
	t.Helper()
	topo := topology.New(topology.Config{VolumeSizeLimit: 1 << 30, Rand: rand.New(rand.NewPCG(1, 2))})
	port := uint32(8000)
	for r := range racks {
		for range perRack {
			port++
			hb := &pb.Heartbeat{Ip: "127.0.0.1", Port: port, DataCenter: "dc1", Rack: fmt.Sprint("r", r),
				Disks: []*pb.DiskCapacity{{MaxVolumeCount: slots}}, Full: true}
			if _, err := topo.ProcessHeartbeat(hb, t0); err != nil {
				t.Fatal(err)
			}
		}
	}
	st := state.New()
	servers := newFakeServers()
	g := New(topo, state.Client{P: &localProposer{s: st}}, servers, slog.New(slog.NewTextHandler(io.Discard, nil)))
	t.Cleanup(func() { g.Close() })
	return &fixture{topo: topo, st: st, servers: servers, g: g}
}

func rp(t *testing.T, s string) superblock.ReplicaPlacement {
	p, err := superblock.ParseReplicaPlacement(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestGrowCreatesRecordsAndServes(t *testing.T) {
	f := newFixture(t, 2, 2, 10)
	o := Options{WriteOption: topology.WriteOption{Collection: "pics", Placement: rp(t, "010"),
		TTL: needle.TTL{Count: 3, Unit: needle.TTLDay}}, Preallocate: 1 << 20}
	n, err := f.g.Grow(context.Background(), o)
	if err != nil || n != 6 {
		t.Fatalf("grew %d, %v; want the default 6 for two copies", n, err)
	}
	if f.topo.WritableCount(o.Key()) != 6 {
		t.Fatalf("%d writable, want 6 before any heartbeat", f.topo.WritableCount(o.Key()))
	}
	recs := f.st.Volumes()
	if len(recs) != 6 || f.st.MaxVolumeID() != 6 {
		t.Fatalf("%d records, max id %d", len(recs), f.st.MaxVolumeID())
	}
	for _, rec := range recs {
		if got := f.servers.holders(rec.ID); !reflect.DeepEqual(got, slices.Sorted(slices.Values(rec.Servers))) {
			t.Fatalf("volume %d recorded on %v but allocated on %v", rec.ID, rec.Servers, got)
		}
		req := f.servers.volumes[rec.Servers[0]][rec.ID]
		if req.GetCollection() != "pics" || req.GetReplicaPlacement() != 10 || req.GetTtl() != 3<<8|3 ||
			req.GetPreallocate() != 1<<20 || req.GetDiskType() != "hdd" {
			t.Fatalf("allocate request %v", req)
		}
		if rec.Collection != "pics" || rec.ReplicaPlacement != 10 || rec.TTL != 3<<8|3 {
			t.Fatalf("record %+v", rec)
		}
	}
}

func TestGrowIDsSkipReportedVolumes(t *testing.T) {
	f := newFixture(t, 1, 1, 10)
	// A server already holds volume 40, made by another master.
	hb := &pb.Heartbeat{Ip: "127.0.0.1", Port: 8001, DataCenter: "dc1", Rack: "r0", Full: true,
		Volumes: []*pb.VolumeInformation{{Id: 40}}}
	if _, err := f.topo.ProcessHeartbeat(hb, t0); err != nil {
		t.Fatal(err)
	}
	if n, err := f.g.Grow(context.Background(), Options{Count: 2}); err != nil || n != 2 {
		t.Fatalf("grew %d, %v", n, err)
	}
	if ids := f.servers.holders(41); len(ids) != 1 || len(f.servers.holders(42)) != 1 {
		t.Fatalf("new volumes must be 41 and 42, above the reported 40")
	}
}

func TestGrowWithoutRoomConsumesNoIDs(t *testing.T) {
	f := newFixture(t, 1, 1, 10)
	_, err := f.g.Grow(context.Background(), Options{WriteOption: topology.WriteOption{Placement: rp(t, "010")}})
	if !errors.Is(err, topology.ErrNoFreeSlots) {
		t.Fatalf("got %v, want ErrNoFreeSlots", err)
	}
	if f.st.MaxVolumeID() != 0 || f.servers.calls != 0 {
		t.Fatal("a growth that cannot be placed must not issue ids or call servers")
	}
	_, err = f.g.Grow(context.Background(), Options{WriteOption: topology.WriteOption{DataCenter: "nowhere"}})
	if !errors.Is(err, topology.ErrUnknownDataCenter) {
		t.Fatalf("got %v, want ErrUnknownDataCenter", err)
	}
}

func TestGrowPartialRoom(t *testing.T) {
	f := newFixture(t, 1, 1, 3)
	n, err := f.g.Grow(context.Background(), Options{}) // wants 7, room for 3
	if n != 3 || !errors.Is(err, topology.ErrNoFreeSlots) {
		t.Fatalf("grew %d, %v; want 3 and ErrNoFreeSlots", n, err)
	}
}

func TestFailedAllocationIsUndone(t *testing.T) {
	f := newFixture(t, 2, 1, 10)
	f.servers.fail["127.0.0.1:8002"] = true
	n, err := f.g.Grow(context.Background(), Options{WriteOption: topology.WriteOption{Placement: rp(t, "010")}, Count: 1})
	if n != 0 || err == nil {
		t.Fatalf("grew %d, %v; want a failure", n, err)
	}
	if got := f.servers.holders(1); len(got) != 0 {
		t.Fatalf("half-placed volume 1 left on %v", got)
	}
	if len(f.st.Volumes()) != 0 || f.topo.WritableCount(topology.LayoutKey{Placement: rp(t, "010")}) != 0 {
		t.Fatal("a failed volume must be neither recorded nor served")
	}
}

func TestBackgroundJoinsRunningGrowth(t *testing.T) {
	f := newFixture(t, 1, 2, 10)
	f.servers.gate = make(chan struct{})
	o := Options{Count: 2}
	p1 := f.g.Background(o)
	p2 := f.g.Background(o)
	if p1 != p2 || !f.g.Growing(o.Key()) {
		t.Fatal("a second request for the same layout must join the running growth")
	}
	other := f.g.Background(Options{WriteOption: topology.WriteOption{Collection: "x"}, Count: 1})
	if other == p1 {
		t.Fatal("another layout must grow separately")
	}
	close(f.servers.gate)
	if n, err := p1.Result(); n != 2 || err != nil {
		t.Fatalf("grew %d, %v", n, err)
	}
	if n, err := other.Result(); n != 1 || err != nil {
		t.Fatalf("other layout grew %d, %v", n, err)
	}
	if f.servers.calls != 3 || f.g.Growing(o.Key()) {
		t.Fatalf("%d allocations, want 3", f.servers.calls)
	}
}

func TestCloseCancelsBackgroundGrowth(t *testing.T) {
	f := newFixture(t, 1, 1, 10)
	f.servers.gate = make(chan struct{}) // never opened
	f.servers.entered = make(chan struct{}, 1)
	p := f.g.Background(Options{Count: 1})
	<-f.servers.entered // the growth is allocating
	f.g.Close()
	if _, err := p.Result(); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	if _, err := f.g.Background(Options{Count: 1}).Result(); !errors.Is(err, ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
}
