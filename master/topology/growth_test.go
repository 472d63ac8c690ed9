package topology

import (
	"errors"
	"fmt"
	"testing"

	"weedfs.dev/weed/storage/superblock"
)

// cluster builds a topology of servers, each with slots free slots.
type cluster []struct {
	dc, rack string
	nodes    int
}

func (c cluster) build(t *testing.T, seed uint64, slots uint32) *Topology {
	t.Helper()
	topo := newTopo(seed)
	port := uint32(8000)
	for _, r := range c {
		for range r.nodes {
			port++
			beat(t, topo, server{dc: r.dc, rack: r.rack, port: port, max: slots}.full(), t0)
		}
	}
	return topo
}

var (
	single   = cluster{{"dc1", "r1", 1}}
	oneRack3 = cluster{{"dc1", "r1", 3}}
	twoRacks = cluster{{"dc1", "r1", 2}, {"dc1", "r2", 2}}
	threeDCs = cluster{{"dc1", "r1", 2}, {"dc1", "r2", 1}, {"dc2", "r1", 1}, {"dc3", "r1", 1}}
)

// checkPlacement asserts a chosen set satisfies the placement exactly:
// distinct servers, z more in the main rack, y in distinct other racks of
// the main data center, x in distinct other data centers.
func checkPlacement(t *testing.T, set []Location, rp superblock.ReplicaPlacement) {
	t.Helper()
	if len(set) != rp.CopyCount() {
		t.Fatalf("%s: %d servers, want %d", rp, len(set), rp.CopyCount())
	}
	main := set[0]
	servers := map[string]bool{}
	racks := map[string]bool{}
	dcs := map[string]bool{}
	var z, y, x int
	for i, l := range set {
		if servers[l.URL] {
			t.Fatalf("%s: server %s chosen twice in %v", rp, l.URL, set)
		}
		servers[l.URL] = true
		if i == 0 {
			continue
		}
		switch {
		case l.DataCenter == main.DataCenter && l.Rack == main.Rack:
			z++
		case l.DataCenter == main.DataCenter:
			y++
			if racks[l.Rack] {
				t.Fatalf("%s: two copies on other rack %s", rp, l.Rack)
			}
			racks[l.Rack] = true
		default:
			x++
			if dcs[l.DataCenter] {
				t.Fatalf("%s: two copies in other data center %s", rp, l.DataCenter)
			}
			dcs[l.DataCenter] = true
		}
	}
	if z != int(rp.SameRack) || y != int(rp.DiffRack) || x != int(rp.DiffDataCenter) {
		t.Fatalf("%s: got z=%d y=%d x=%d in %v", rp, z, y, x, set)
	}
}

func TestPlanGrowthEveryPlacement(t *testing.T) {
	cases := []struct {
		c        cluster
		name     string
		feasible []string
		not      []string
	}{
		{single, "single", []string{"000"}, []string{"001", "010", "100", "002", "110"}},
		{oneRack3, "oneRack3", []string{"000", "001", "002"}, []string{"003", "010", "100", "011"}},
		{twoRacks, "twoRacks", []string{"000", "001", "010", "011"}, []string{"002", "020", "100", "012", "110"}},
		{threeDCs, "threeDCs", []string{"000", "001", "010", "011", "100", "110", "111", "200", "201", "210", "211"},
			[]string{"002", "020", "220", "202", "012"}},
	}
	for _, c := range cases {
		for _, s := range c.feasible {
			rp := placement(t, s)
			for seed := uint64(0); seed < 30; seed++ {
				topo := c.c.build(t, seed, 100)
				plans, err := topo.PlanGrowth(WriteOption{Placement: rp}, 3)
				if err != nil || len(plans) != 3 {
					t.Fatalf("%s %s seed %d: %d plans, %v", c.name, s, seed, len(plans), err)
				}
				for _, set := range plans {
					checkPlacement(t, set, rp)
				}
			}
		}
		for _, s := range c.not {
			topo := c.c.build(t, 1, 100)
			plans, err := topo.PlanGrowth(WriteOption{Placement: placement(t, s)}, 1)
			if !errors.Is(err, ErrNoFreeSlots) || len(plans) != 0 {
				t.Fatalf("%s %s: %d plans, %v; want ErrNoFreeSlots", c.name, s, len(plans), err)
			}
		}
	}
}

// TestPlanGrowthCountsItsOwnSlots: one plan never gives a server more new
// volumes than it has free slots.
func TestPlanGrowthCountsItsOwnSlots(t *testing.T) {
	for seed := uint64(0); seed < 20; seed++ {
		topo := twoRacks.build(t, seed, 1) // 4 servers, 1 slot each
		plans, err := topo.PlanGrowth(WriteOption{Placement: placement(t, "010")}, 3)
		if !errors.Is(err, ErrNoFreeSlots) || len(plans) != 2 {
			t.Fatalf("seed %d: %d plans, %v; want 2 and ErrNoFreeSlots", seed, len(plans), err)
		}
		used := map[string]int{}
		for _, set := range plans {
			checkPlacement(t, set, placement(t, "010"))
			for _, l := range set {
				used[l.URL]++
				if used[l.URL] > 1 {
					t.Fatalf("seed %d: server %s got two volumes with one slot", seed, l.URL)
				}
			}
		}
	}
}

func TestPlanGrowthConstraints(t *testing.T) {
	topo := threeDCs.build(t, 3, 100)
	for range 30 {
		plans, err := topo.PlanGrowth(WriteOption{Placement: placement(t, "100"), DataCenter: "dc2"}, 1)
		if err != nil || plans[0][0].DataCenter != "dc2" {
			t.Fatalf("dc2: %v %v", plans, err)
		}
		checkPlacement(t, plans[0], placement(t, "100"))
		plans, err = topo.PlanGrowth(WriteOption{Placement: placement(t, "010"), Rack: "r2"}, 1)
		if err != nil || plans[0][0].Rack != "r2" || plans[0][0].DataCenter != "dc1" {
			t.Fatalf("rack r2: %v %v", plans, err)
		}
		plans, err = topo.PlanGrowth(WriteOption{Placement: placement(t, "001"), DataNode: "127.0.0.1:8002"}, 1)
		if err != nil || plans[0][0].URL != "127.0.0.1:8002" {
			t.Fatalf("node 8002: %v %v", plans, err)
		}
		checkPlacement(t, plans[0], placement(t, "001"))
	}
	errs := []struct {
		o    WriteOption
		want error
	}{
		{WriteOption{DataCenter: "dc9"}, ErrUnknownDataCenter},
		{WriteOption{Rack: "r9"}, ErrUnknownRack},
		{WriteOption{DataCenter: "dc2", Rack: "r2"}, ErrUnknownRack},
		{WriteOption{DataNode: "127.0.0.1:1"}, ErrUnknownDataNode},
		{WriteOption{DataCenter: "dc2", DataNode: "127.0.0.1:8001"}, ErrUnknownDataNode},
		// Known places that cannot hold the placement.
		{WriteOption{DataCenter: "dc2", Placement: placement(t, "010")}, ErrNoFreeSlots},
		{WriteOption{DataNode: "127.0.0.1:8003", Placement: placement(t, "001")}, ErrNoFreeSlots},
	}
	for _, e := range errs {
		if _, err := topo.PlanGrowth(e.o, 1); !errors.Is(err, e.want) {
			t.Errorf("%s: got %v, want %v", e.o, err, e.want)
		}
		// Count 0 checks only the constraints.
		_, err := topo.PlanGrowth(e.o, 0)
		if wantErr := !errors.Is(e.want, ErrNoFreeSlots); (err != nil) != wantErr || (wantErr && !errors.Is(err, e.want)) {
			t.Errorf("%s with count 0: got %v", e.o, err)
		}
	}
}

// TestPlanGrowthSkipsFullAndDeadServers: servers without free slots of the
// disk type, and dead servers, are never chosen.
func TestPlanGrowthSkipsFullAndDeadServers(t *testing.T) {
	topo := newTopo(5)
	full := server{dc: "dc1", rack: "r1", port: 9001, max: 1}
	beat(t, topo, full.full(vol(1, "", "000", 0)), t0)
	dead := server{dc: "dc1", rack: "r1", port: 9002, max: 10}
	beat(t, topo, dead.full(), t0)
	ok := server{dc: "dc1", rack: "r1", port: 9003, max: 10}
	beat(t, topo, ok.full(), t0.Add(60e9))
	topo.Expire(t0.Add(61e9), 30e9)
	for range 20 {
		plans, err := topo.PlanGrowth(WriteOption{}, 5)
		if err != nil {
			t.Fatal(err)
		}
		for _, set := range plans {
			if set[0].URL != ok.url() {
				t.Fatalf("chose %s", set[0].URL)
			}
		}
	}
	if _, err := topo.PlanGrowth(WriteOption{DiskType: "ssd"}, 1); !errors.Is(err, ErrNoFreeSlots) {
		t.Fatalf("no ssd slots anywhere: %v", err)
	}
}

// TestPlanGrowthSpreadsByFreeSlots: choices are random, weighted by free
// slots, so every server with room gets some volumes.
func TestPlanGrowthSpreadsByFreeSlots(t *testing.T) {
	topo := oneRack3.build(t, 11, 1000)
	count := map[string]int{}
	plans, err := topo.PlanGrowth(WriteOption{}, 300)
	if err != nil {
		t.Fatal(err)
	}
	for _, set := range plans {
		count[set[0].URL]++
	}
	for u, n := range count {
		if n < 50 {
			t.Fatalf("server %s got %d of 300: %v", u, n, count)
		}
	}
	if len(count) != 3 {
		t.Fatalf("only %d servers chosen: %v", len(count), count)
	}
}

func TestGrowthCount(t *testing.T) {
	want := map[string]int{"000": 7, "001": 6, "010": 6, "100": 6, "002": 3, "011": 3, "110": 3, "200": 3, "111": 1, "003": 1}
	for s, n := range want {
		if got := GrowthCount(placement(t, s)); got != n {
			t.Errorf("%s: %d, want %d", s, got, n)
		}
	}
}

func ExampleTopology_PlanGrowth() {
	// One data center with two racks of one server each: "010" puts the
	// two copies on different racks.
	topo := New(Config{VolumeSizeLimit: 1 << 30})
	for i, rack := range []string{"r1", "r2"} {
		_, _ = topo.ProcessHeartbeat(server{dc: "dc1", rack: rack, port: uint32(8080 + i), max: 7}.full(), t0)
	}
	rp, _ := superblock.ParseReplicaPlacement("010")
	plans, err := topo.PlanGrowth(WriteOption{Placement: rp}, 1)
	fmt.Println(len(plans), len(plans[0]), plans[0][0].Rack != plans[0][1].Rack, err)
	// Output: 1 2 true <nil>
}
