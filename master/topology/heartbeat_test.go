package topology

import (
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"weedfs.dev/weed/pb"
)

func TestFullReportReplacesWhatTheNodeHad(t *testing.T) {
	topo := newTopo(1)
	a := server{dc: "dc1", rack: "r1", port: 8080, max: 10}
	res := beat(t, topo, a.full(vol(1, "", "000", 10), vol(2, "", "000", 10), vol(3, "pics", "000", 10)), t0)
	if !reflect.DeepEqual(res.NewVolumes, []uint32{1, 2, 3}) || len(res.DeletedVolumes) != 0 {
		t.Fatalf("first report: %+v", res)
	}
	res = beat(t, topo, a.full(vol(2, "", "000", 20), vol(3, "pics", "000", 10), vol(4, "", "000", 0)), t0.Add(time.Second))
	if !reflect.DeepEqual(res.NewVolumes, []uint32{4}) || !reflect.DeepEqual(res.DeletedVolumes, []uint32{1}) {
		t.Fatalf("second report: new %v deleted %v, want [4] [1]", res.NewVolumes, res.DeletedVolumes)
	}
	if _, err := topo.Lookup(1, ""); !errors.Is(err, ErrVolumeNotFound) {
		t.Fatalf("volume 1 after it left the report: %v", err)
	}
	locs, err := topo.Lookup(4, "")
	if err != nil || !reflect.DeepEqual(urls(locs), []string{"127.0.0.1:8080"}) || locs[0].DataCenter != "dc1" {
		t.Fatalf("Lookup(4) = %v, %v", locs, err)
	}
	if _, err := topo.Lookup(3, "other"); !errors.Is(err, ErrVolumeNotFound) {
		t.Fatalf("lookup with the wrong collection: %v", err)
	}
	if _, err := topo.Lookup(3, "pics"); err != nil {
		t.Fatalf("lookup with the right collection: %v", err)
	}
	if topo.MaxVolumeID() != 4 {
		t.Fatalf("MaxVolumeID %d, want 4", topo.MaxVolumeID())
	}
	// An empty full report empties the node.
	res = beat(t, topo, a.full(), t0.Add(2*time.Second))
	if !reflect.DeepEqual(res.DeletedVolumes, []uint32{2, 3, 4}) {
		t.Fatalf("empty full report deleted %v", res.DeletedVolumes)
	}
}

func TestDeltaReport(t *testing.T) {
	topo := newTopo(1)
	a := server{dc: "dc1", rack: "r1", port: 8080, max: 10}
	beat(t, topo, a.full(vol(1, "", "000", 10), vol(2, "", "000", 500)), t0)
	delta := &pb.Heartbeat{Ip: "127.0.0.1", Port: 8080, DataCenter: "dc1", Rack: "r1",
		NewVolumes:     []*pb.VolumeShortInformation{{Id: 5, Collection: "c"}, {Id: 2}},
		DeletedVolumes: []*pb.VolumeShortInformation{{Id: 1}, {Id: 99}}}
	res := beat(t, topo, delta, t0.Add(time.Second))
	if res.NeedFullReport {
		t.Fatal("a known node's delta must not ask for a full report")
	}
	if !reflect.DeepEqual(res.NewVolumes, []uint32{5}) || !reflect.DeepEqual(res.DeletedVolumes, []uint32{1}) {
		t.Fatalf("delta: new %v deleted %v, want [5] [1]", res.NewVolumes, res.DeletedVolumes)
	}
	if _, err := topo.Lookup(5, "c"); err != nil {
		t.Fatal(err)
	}
	// Volume 2 was re-announced by the delta: its size from the full report stays.
	if topo.nodes["127.0.0.1:8080"].volumes[2].Size != 500 {
		t.Fatal("a delta re-announcing a volume erased its reported size")
	}
	// Disks not repeated in a delta keep their slot counts.
	if n := topo.Nodes()[0]; n.MaxVolumes[""] != 10 || !n.LastSeen.Equal(t0.Add(time.Second)) || !n.Alive {
		t.Fatalf("max volumes %v after a delta without disks", n.MaxVolumes)
	}
}

func TestUnknownNodeDeltaAsksForFullReport(t *testing.T) {
	topo := newTopo(1)
	res := beat(t, topo, &pb.Heartbeat{Ip: "10.0.0.1", Port: 8080,
		NewVolumes: []*pb.VolumeShortInformation{{Id: 3}}}, t0)
	if !res.NeedFullReport {
		t.Fatal("a delta from an unknown node must ask for a full report")
	}
	locs, err := topo.Lookup(3, "")
	if err != nil || locs[0].DataCenter != DefaultDataCenter || locs[0].Rack != DefaultRack || locs[0].PublicURL != "10.0.0.1:8080" {
		t.Fatalf("Lookup(3) = %+v, %v", locs, err)
	}
}

func TestExpireDeadNodeAndRevival(t *testing.T) {
	topo := newTopo(1)
	a := server{dc: "dc1", rack: "r1", port: 8080, max: 10}
	b := server{dc: "dc1", rack: "r1", port: 8081, max: 10}
	beat(t, topo, a.full(vol(1, "", "001", 0), vol(2, "", "000", 0)), t0)
	beat(t, topo, b.full(vol(1, "", "001", 0)), t0.Add(4*time.Second))
	key := LayoutKey{Placement: placement(t, "001")}
	if topo.WritableCount(key) != 1 {
		t.Fatal("volume 1 with both copies must be writable")
	}
	if dead := topo.Expire(t0.Add(5*time.Second), 5*time.Second); len(dead) != 0 {
		t.Fatalf("nothing is late yet, got %v", dead)
	}
	dead := topo.Expire(t0.Add(6*time.Second), 5*time.Second)
	checkInvariants(t, topo)
	if !reflect.DeepEqual(dead, []string{"127.0.0.1:8080"}) {
		t.Fatalf("dead %v, want only a", dead)
	}
	if _, err := topo.Lookup(2, ""); !errors.Is(err, ErrVolumeNotFound) {
		t.Fatalf("volume 2 lives only on the dead node: %v", err)
	}
	locs, _ := topo.Lookup(1, "")
	if !reflect.DeepEqual(urls(locs), []string{"127.0.0.1:8081"}) {
		t.Fatalf("volume 1 locations %v, want only b", urls(locs))
	}
	if topo.WritableCount(key) != 0 {
		t.Fatal("volume 1 lost a copy: not writable")
	}
	if _, _, err := topo.PickForWrite(WriteOption{Placement: placement(t, "001")}); !errors.Is(err, ErrNoWritable) {
		t.Fatalf("pick with a dead copy: %v", err)
	}
	if topo.FreeSlots("") != 9 {
		t.Fatalf("free slots %d: a dead node offers none", topo.FreeSlots(""))
	}
	if len(topo.Info().DataCenters[0].Racks[0].DataNodes) != 1 {
		t.Fatal("dead node still listed in /dir/status")
	}
	// The node comes back with a delta: it is served again and asked for a full report.
	res := beat(t, topo, &pb.Heartbeat{Ip: "127.0.0.1", Port: 8080, DataCenter: "dc1", Rack: "r1"}, t0.Add(7*time.Second))
	if !res.NeedFullReport || !reflect.DeepEqual(res.NewVolumes, []uint32{1, 2}) {
		t.Fatalf("revival: %+v", res)
	}
	if topo.WritableCount(key) != 1 {
		t.Fatal("volume 1 writable again once both copies are back")
	}
}

func TestHeartbeatRejectsBadInput(t *testing.T) {
	topo := newTopo(1)
	for _, hb := range []*pb.Heartbeat{{Port: 8080}, {Ip: "h"}, {Ip: "h", Port: 70000}} {
		if _, err := topo.ProcessHeartbeat(hb, t0); !errors.Is(err, ErrBadHeartbeat) {
			t.Errorf("%v: got %v, want ErrBadHeartbeat", hb, err)
		}
	}
	a := server{dc: "dc1", rack: "r1", port: 8080, max: 10}
	hb := a.full(vol(1, "", "000", 0), &pb.VolumeInformation{Id: 2, ReplicaPlacement: 300},
		&pb.VolumeInformation{Id: 3, Ttl: 5<<8 | 9}, &pb.VolumeInformation{Id: 0})
	res := beat(t, topo, hb, t0)
	if !reflect.DeepEqual(res.Rejected, []uint32{2, 3, 0}) || !reflect.DeepEqual(res.NewVolumes, []uint32{1}) {
		t.Fatalf("rejected %v new %v", res.Rejected, res.NewVolumes)
	}
}

func TestDuplicateVolumeIDInAnotherLayout(t *testing.T) {
	topo := newTopo(1)
	a := server{dc: "dc1", rack: "r1", port: 8080, max: 10}
	b := server{dc: "dc1", rack: "r1", port: 8081, max: 10}
	beat(t, topo, a.full(vol(5, "a", "000", 0)), t0)
	res := beat(t, topo, b.full(vol(5, "b", "000", 0)), t0)
	if !reflect.DeepEqual(res.Duplicates, []uint32{5}) {
		t.Fatalf("duplicates %v, want [5]", res.Duplicates)
	}
	locs, _ := topo.Lookup(5, "")
	if !reflect.DeepEqual(urls(locs), []string{a.url()}) {
		t.Fatalf("volume 5 served from %v, want only a", urls(locs))
	}
	// Once a drops it, b's copy is the volume.
	beat(t, topo, a.full(), t0.Add(time.Second))
	beat(t, topo, b.full(vol(5, "b", "000", 0)), t0.Add(time.Second))
	if _, err := topo.Lookup(5, "b"); err != nil {
		t.Fatalf("b's copy not served after a dropped its own: %v", err)
	}
}

func TestNodeMovesToAnotherRack(t *testing.T) {
	topo := newTopo(1)
	a := server{dc: "dc1", rack: "r1", port: 8080, max: 10}
	beat(t, topo, a.full(vol(1, "", "000", 0)), t0)
	a.dc, a.rack = "dc2", "r9"
	beat(t, topo, a.full(vol(1, "", "000", 0)), t0)
	info := topo.Info()
	if len(info.DataCenters) != 1 || info.DataCenters[0].ID != "dc2" || info.DataCenters[0].Racks[0].ID != "r9" {
		t.Fatalf("after the move: %+v", info.DataCenters)
	}
	locs, _ := topo.Lookup(1, "")
	if locs[0].DataCenter != "dc2" {
		t.Fatalf("lookup still shows %s", locs[0].DataCenter)
	}
}

func TestMaxFileKeyIsTheHighestReported(t *testing.T) {
	topo := newTopo(1)
	a := server{port: 8080, max: 1}
	hb := a.full()
	hb.MaxFileKey = 500
	if r := beat(t, topo, hb, t0); r.MaxFileKey != 500 {
		t.Fatalf("got %d", r.MaxFileKey)
	}
	hb.MaxFileKey = 20
	beat(t, topo, hb, t0)
	if topo.MaxFileKey() != 500 {
		t.Fatalf("MaxFileKey went down to %d", topo.MaxFileKey())
	}
}

func TestDiskTypesAreSeparateLayoutsAndSlots(t *testing.T) {
	topo := newTopo(1)
	hb := &pb.Heartbeat{Ip: "127.0.0.1", Port: 8080, Full: true,
		Disks:   []*pb.DiskCapacity{{DiskType: "HDD", MaxVolumeCount: 3}, {DiskType: "ssd", MaxVolumeCount: 2}},
		Volumes: []*pb.VolumeInformation{{Id: 1, DiskType: "hdd"}, {Id: 2, DiskType: "ssd"}, {Id: 3}}}
	beat(t, topo, hb, t0)
	if topo.FreeSlots("hdd") != 1 || topo.FreeSlots("") != 1 || topo.FreeSlots("ssd") != 1 {
		t.Fatalf("free hdd %d ssd %d", topo.FreeSlots(""), topo.FreeSlots("ssd"))
	}
	if topo.WritableCount(LayoutKey{}) != 2 || topo.WritableCount(LayoutKey{DiskType: "ssd"}) != 1 {
		t.Fatal("hdd and ssd volumes must be separate layouts")
	}
	if _, _, err := topo.PickForWrite(WriteOption{DiskType: "SSD"}); err != nil {
		t.Fatal(err)
	}
	ids := []uint32{}
	for range 20 {
		id, _, _ := topo.PickForWrite(WriteOption{DiskType: "ssd"})
		ids = append(ids, id)
	}
	if slices.ContainsFunc(ids, func(id uint32) bool { return id != 2 }) {
		t.Fatalf("ssd picks %v, want only 2", ids)
	}
}
