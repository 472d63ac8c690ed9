package topology

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"weedfs.dev/weed/pb"
	"weedfs.dev/weed/storage/superblock"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

const testLimit = 1000 // volume size limit in tests: crowded at 900

func newTopo(seed uint64) *Topology {
	return New(Config{VolumeSizeLimit: testLimit, Rand: rand.New(rand.NewPCG(seed, seed+1))})
}

// vol describes a reported volume: placement as a string, for readability.
func vol(id uint32, collection, placement string, size uint64) *pb.VolumeInformation {
	rp, err := superblock.ParseReplicaPlacement(placement)
	if err != nil {
		panic(err) // test tables only
	}
	return &pb.VolumeInformation{Id: id, Collection: collection, ReplicaPlacement: uint32(rp.Byte()), Size: size, Version: 3}
}

// server is a volume server in tests.
type server struct {
	dc, rack string
	port     uint32
	max      uint32
}

func (s server) url() string { return fmt.Sprintf("127.0.0.1:%d", s.port) }

func (s server) full(vols ...*pb.VolumeInformation) *pb.Heartbeat {
	return &pb.Heartbeat{Ip: "127.0.0.1", Port: s.port, DataCenter: s.dc, Rack: s.rack,
		Disks: []*pb.DiskCapacity{{MaxVolumeCount: s.max}}, Full: true, Volumes: vols}
}

func beat(t *testing.T, topo *Topology, hb *pb.Heartbeat, at time.Time) HeartbeatResult {
	t.Helper()
	res, err := topo.ProcessHeartbeat(hb, at)
	if err != nil {
		t.Fatal(err)
	}
	checkInvariants(t, topo)
	return res
}

// checkInvariants recomputes every layout from the nodes and compares.
func checkInvariants(t testing.TB, topo *Topology) {
	t.Helper()
	topo.mu.RLock()
	defer topo.mu.RUnlock()
	for url, n := range topo.nodes {
		if n.rack.nodes[url] != n || topo.dcs[n.dcName()] != n.rack.dc {
			t.Fatalf("node %s not linked in its rack", url)
		}
		counts := map[string]int{}
		for _, v := range n.volumes {
			counts[v.DiskType]++
		}
		for dt, c := range n.counts {
			if counts[dt] != c {
				t.Fatalf("node %s disk %q: count %d, holds %d", url, dt, c, counts[dt])
			}
		}
	}
	for id, l := range topo.byVolume {
		if topo.layouts[l.key] != l {
			t.Fatalf("volume %d: layout not registered", id)
		}
		reps := l.replicas[id]
		if len(reps) == 0 {
			t.Fatalf("volume %d: in byVolume without replicas", id)
		}
		ro, size := topo.marks[id], uint64(0)
		for _, n := range reps {
			v, ok := n.volumes[id]
			if !n.alive || !ok || v.Key() != l.key {
				t.Fatalf("volume %d: replica %s alive=%v holds=%v", id, n.url, n.alive, ok)
			}
			ro = ro || v.ReadOnly
			size = max(size, v.Size)
		}
		enough := len(reps) == l.copies || (topo.asMin && len(reps) > l.copies)
		want := enough && !ro && size < topo.sizeLimit
		if _, got := l.pos[id]; got != want {
			t.Fatalf("volume %d: writable=%v, want %v", id, got, want)
		}
	}
	for key, l := range topo.layouts {
		if len(l.writable) != len(l.pos) {
			t.Fatalf("layout %v: writable list and index differ", key)
		}
		for i, id := range l.writable {
			if l.pos[id] != i || topo.byVolume[id] != l {
				t.Fatalf("layout %v: writable %d misindexed", key, id)
			}
		}
		for id := range l.replicas {
			if topo.byVolume[id] != l {
				t.Fatalf("layout %v: volume %d not indexed", key, id)
			}
		}
	}
	// Every live node's registrable volume is served from it.
	for _, n := range topo.nodes {
		if !n.alive {
			continue
		}
		for id, v := range n.volumes {
			l := topo.byVolume[id]
			if l != nil && l.key == v.Key() && !slices.Contains(l.replicas[id], n) {
				t.Fatalf("live node %s holds volume %d but is not a location", n.url, id)
			}
		}
	}
}

func urls(locs []Location) []string {
	out := make([]string, len(locs))
	for i, l := range locs {
		out[i] = l.URL
	}
	return out
}

func placement(t testing.TB, s string) superblock.ReplicaPlacement {
	rp, err := superblock.ParseReplicaPlacement(s)
	if err != nil {
		t.Fatal(err)
	}
	return rp
}
