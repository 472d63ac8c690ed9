package topology

import (
	"errors"
	"net"
	"strconv"
	"testing"
	"time"

	"weedfs.dev/weed/pb"
)

func loc(dc, rack, url string) Location { return Location{URL: url, DataCenter: dc, Rack: rack} }

func TestFitsPlacement(t *testing.T) {
	a, b, c := loc("dc1", "r1", "a"), loc("dc1", "r1", "b"), loc("dc1", "r2", "c")
	d, e, f := loc("dc1", "r3", "d"), loc("dc2", "r1", "e"), loc("dc2", "r1", "f")
	g := loc("dc3", "r1", "g")
	cases := []struct {
		rp   string
		set  []Location
		want bool
	}{
		{"000", nil, true},
		{"000", []Location{a}, true},
		{"000", []Location{a, b}, false},
		{"001", []Location{a, b}, true},
		{"001", []Location{a, c}, false},
		{"010", []Location{a, c}, true},
		{"010", []Location{a, b}, false},
		{"010", []Location{a, e}, false},
		{"011", []Location{a, b, c}, true},
		{"011", []Location{c, a, b}, true}, // the main copy need not come first
		{"011", []Location{a, c, d}, false},
		{"011", []Location{c}, true},
		{"011", []Location{a, c}, true},
		{"011", []Location{c, d}, true}, // c main, d on another rack; a same-rack copy can join c
		{"020", []Location{a, c, d}, true},
		{"020", []Location{a, c, loc("dc1", "r2", "c2")}, false}, // two copies on one other rack
		{"100", []Location{a, e}, true},
		{"100", []Location{a, b}, false},
		{"200", []Location{a, e, g}, true},
		{"200", []Location{a, e, f}, false},
		{"110", []Location{a, c, e}, true},
		{"110", []Location{a, b, e}, false},
		{"002", []Location{a, b, loc("dc1", "r1", "h")}, true},
		{"001", []Location{a, b, loc("dc1", "r1", "h")}, false}, // one copy too many
	}
	for _, c := range cases {
		if got := FitsPlacement(c.set, placement(t, c.rp)); got != c.want {
			t.Errorf("%s %v: got %v, want %v", c.rp, urls(c.set), got, c.want)
		}
	}
}

// TestPlannedSetsFitTheirPlacement: every set PlanGrowth chooses passes
// FitsPlacement, and no strict subset of rules is violated by dropping one.
func TestPlannedSetsFitTheirPlacement(t *testing.T) {
	for _, s := range []string{"000", "001", "010", "011", "100", "110", "111", "200", "201", "210", "211"} {
		rp := placement(t, s)
		topo := threeDCs.build(t, 9, 100)
		plans, err := topo.PlanGrowth(WriteOption{Placement: rp}, 5)
		if err != nil {
			t.Fatal(err)
		}
		for _, set := range plans {
			if !FitsPlacement(set, rp) {
				t.Fatalf("%s: planned %v does not fit", s, set)
			}
			for i := range set {
				part := append(append([]Location{}, set[:i]...), set[i+1:]...)
				if !FitsPlacement(part, rp) {
					t.Fatalf("%s: a part of a valid set does not fit: %v", s, part)
				}
			}
		}
	}
}

// bigCluster has a spare server in every rack, so any lost copy can be
// replaced without moving the others.
var bigCluster = cluster{
	{"dc1", "r1", 4}, {"dc1", "r2", 4}, {"dc1", "r3", 4},
	{"dc2", "r1", 4}, {"dc3", "r1", 4}, {"dc4", "r1", 4},
}

// TestPlanReplicaRestoresPlacement: for every placement, lose each copy of
// a volume in turn; the planned replacement makes the copies a valid
// placement again.
func TestPlanReplicaRestoresPlacement(t *testing.T) {
	for _, s := range []string{"001", "010", "011", "100", "110", "111", "200", "201", "210", "002"} {
		rp := placement(t, s)
		for lose := 0; lose < rp.CopyCount(); lose++ {
			topo := bigCluster.build(t, uint64(lose+1), 10)
			plans, err := topo.PlanGrowth(WriteOption{Placement: rp}, 1)
			if err != nil {
				t.Fatal(err)
			}
			v := VolumeInfo{ID: 1, Placement: rp, Version: 3}
			for _, l := range plans[0] {
				if err := topo.AddVolume(l.URL, v); err != nil {
					t.Fatal(err)
				}
			}
			// Every server but the lost one beats again; the lost one expires.
			later := t0.Add(time.Minute)
			for _, n := range topo.Nodes() {
				if n.URL == plans[0][lose].URL {
					continue
				}
				hb := &pb.Heartbeat{Ip: "127.0.0.1", Port: uint32(port(n.URL)), DataCenter: n.DataCenter, Rack: n.Rack}
				beat(t, topo, hb, later)
			}
			topo.Expire(later, 30*time.Second)
			gaps := topo.UnderReplicated()
			if len(gaps) != 1 || gaps[0].ID != 1 || gaps[0].Missing != 1 || len(gaps[0].Have) != rp.CopyCount()-1 {
				t.Fatalf("%s lose %d: gaps %+v", s, lose, gaps)
			}
			to, err := topo.PlanReplica(1)
			if err != nil {
				t.Fatalf("%s lose %d: %v", s, lose, err)
			}
			if err := topo.AddVolume(to.URL, v); err != nil {
				t.Fatal(err)
			}
			checkInvariants(t, topo)
			locs, _ := topo.Lookup(1, "")
			if len(locs) != rp.CopyCount() || !FitsPlacement(locs, rp) {
				t.Fatalf("%s lose %d: copies %v do not form the placement", s, lose, locs)
			}
			if len(topo.UnderReplicated()) != 0 || topo.WritableCount(v.Key()) != 1 {
				t.Fatalf("%s lose %d: volume not whole again", s, lose)
			}
		}
	}
}

func port(url string) int {
	_, p, _ := net.SplitHostPort(url)
	n, _ := strconv.Atoi(p)
	return n
}

func TestPlanReplicaErrors(t *testing.T) {
	topo := single.build(t, 1, 1)
	if _, err := topo.PlanReplica(9); !errors.Is(err, ErrVolumeNotFound) {
		t.Fatalf("unknown volume: %v", err)
	}
	beat(t, topo, server{dc: "dc1", rack: "r1", port: 8001, max: 1}.full(vol(1, "", "000", 0)), t0)
	if _, err := topo.PlanReplica(1); !errors.Is(err, ErrNothingToFix) {
		t.Fatalf("whole volume: %v", err)
	}
	beat(t, topo, server{dc: "dc1", rack: "r1", port: 8001, max: 1}.full(vol(2, "", "001", 0)), t0)
	if _, err := topo.PlanReplica(2); !errors.Is(err, ErrNoFreeSlots) {
		t.Fatalf("no other server: %v", err)
	}
}
