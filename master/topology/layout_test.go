package topology

import (
	"errors"
	"reflect"
	"testing"

	"weedfs.dev/weed/pb"
)

// TestLayoutStates walks one volume through every state a layout knows.
func TestLayoutStates(t *testing.T) {
	a := server{dc: "dc1", rack: "r1", port: 8080, max: 10}
	b := server{dc: "dc1", rack: "r1", port: 8081, max: 10}
	ro := func(v *pb.VolumeInformation) *pb.VolumeInformation { v.ReadOnly = true; return v }
	type step struct {
		name    string
		a, b    *pb.VolumeInformation // nil: the server does not report it
		mark    bool
		want    LayoutVolume
		present bool
	}
	steps := []step{
		{name: "one of two copies", a: vol(7, "", "001", 0),
			want: LayoutVolume{Replicas: 1}, present: true},
		{name: "both copies", a: vol(7, "", "001", 0), b: vol(7, "", "001", 0),
			want: LayoutVolume{Replicas: 2, Writable: true}, present: true},
		{name: "crowded at 90%", a: vol(7, "", "001", 899), b: vol(7, "", "001", 900),
			want: LayoutVolume{Replicas: 2, Writable: true, Crowded: true}, present: true},
		{name: "full at the limit", a: vol(7, "", "001", 1000), b: vol(7, "", "001", 10),
			want: LayoutVolume{Replicas: 2, Full: true}, present: true},
		{name: "compacted below", a: vol(7, "", "001", 10), b: vol(7, "", "001", 10),
			want: LayoutVolume{Replicas: 2, Writable: true}, present: true},
		{name: "one copy read-only", a: ro(vol(7, "", "001", 10)), b: vol(7, "", "001", 10),
			want: LayoutVolume{Replicas: 2, ReadOnly: true}, present: true},
		{name: "operator mark", a: vol(7, "", "001", 10), b: vol(7, "", "001", 10), mark: true,
			want: LayoutVolume{Replicas: 2, ReadOnly: true}, present: true},
		{name: "mark cleared", a: vol(7, "", "001", 10), b: vol(7, "", "001", 10),
			want: LayoutVolume{Replicas: 2, Writable: true}, present: true},
		{name: "gone everywhere", present: false},
	}
	topo := newTopo(1)
	key := LayoutKey{Placement: placement(t, "001")}
	for _, s := range steps {
		var av, bv []*pb.VolumeInformation
		if s.a != nil {
			av = append(av, s.a)
		}
		if s.b != nil {
			bv = append(bv, s.b)
		}
		beat(t, topo, a.full(av...), t0)
		beat(t, topo, b.full(bv...), t0)
		topo.SetReadOnlyMark(7, s.mark)
		checkInvariants(t, topo)
		got, ok := topo.VolumeState(7)
		if ok != s.present {
			t.Fatalf("%s: present=%v", s.name, ok)
		}
		if !ok {
			continue
		}
		s.want.ID, s.want.Key = 7, key
		if got != s.want {
			t.Fatalf("%s: state %+v, want %+v", s.name, got, s.want)
		}
		if wantGrow := !s.want.Writable || s.want.Crowded; topo.NeedsGrowth(key) != wantGrow {
			t.Fatalf("%s: NeedsGrowth=%v, want %v", s.name, !wantGrow, wantGrow)
		}
	}
	if topo.WritableCount(key) != 0 || len(topo.Info().Layouts) != 0 {
		t.Fatal("an empty layout must disappear")
	}
}

// TestLayoutTable: volumes of different collections, placements, TTLs and
// disk types land in separate layouts, listed in /dir/status order.
func TestLayoutTable(t *testing.T) {
	topo := newTopo(1)
	a := server{dc: "dc1", rack: "r1", port: 8080, max: 20}
	ttl := func(v *pb.VolumeInformation, t uint32) *pb.VolumeInformation { v.Ttl = t; return v }
	ssd := vol(6, "", "000", 0)
	ssd.DiskType = "ssd"
	beat(t, topo, a.full(vol(1, "", "000", 0), vol(2, "", "000", 0), vol(3, "pics", "000", 0),
		vol(4, "", "001", 0), ttl(vol(5, "", "000", 0), 3<<8|3), ssd,
		ttl(vol(8, "", "000", 0), 0<<8|3) /* 0d is no TTL */, vol(9, "pics", "000", 2000)), t0)
	want := []LayoutInfo{
		{Replication: "000", TTL: "", Writables: []uint32{1, 2, 8}, Collection: "", DiskType: "hdd"},
		{Replication: "000", TTL: "", Writables: []uint32{6}, Collection: "", DiskType: "ssd"},
		{Replication: "000", TTL: "3d", Writables: []uint32{5}, Collection: "", DiskType: "hdd"},
		{Replication: "001", TTL: "", Writables: nil, Collection: "", DiskType: "hdd"},
		{Replication: "000", TTL: "", Writables: []uint32{3}, Collection: "pics", DiskType: "hdd"},
	}
	if got := topo.Info().Layouts; !reflect.DeepEqual(got, want) {
		t.Fatalf("layouts\n got %+v\nwant %+v", got, want)
	}
	if got := topo.Collections(); !reflect.DeepEqual(got, []string{"", "pics"}) {
		t.Fatalf("collections %q", got)
	}
}

func TestPickForWrite(t *testing.T) {
	topo := newTopo(7)
	a := server{dc: "dc1", rack: "r1", port: 8080, max: 20}
	b := server{dc: "dc2", rack: "r1", port: 8081, max: 20}
	beat(t, topo, a.full(vol(1, "", "000", 0), vol(2, "", "000", 0), vol(3, "", "000", 0), vol(4, "", "000", 5000)), t0)
	beat(t, topo, b.full(vol(5, "", "000", 0), vol(6, "x", "000", 0)), t0)
	seen := map[uint32]int{}
	for range 400 {
		id, locs, err := topo.PickForWrite(WriteOption{})
		if err != nil {
			t.Fatal(err)
		}
		seen[id]++
		want := a.url()
		if id == 5 {
			want = b.url()
		}
		if len(locs) != 1 || locs[0].URL != want {
			t.Fatalf("volume %d at %v", id, urls(locs))
		}
	}
	if len(seen) != 4 || seen[4] != 0 || seen[6] != 0 {
		t.Fatalf("picks %v: want every writable volume of the layout (1, 2, 3, 5) and no other", seen)
	}
	for _, n := range seen {
		if n < 50 { // 100 expected each; a uniform pick stays far above 50
			t.Fatalf("picks %v are far from uniform", seen)
		}
	}
	for range 50 {
		id, _, err := topo.PickForWrite(WriteOption{DataCenter: "dc2"})
		if err != nil || id != 5 {
			t.Fatalf("dc2 pick %d, %v; want 5", id, err)
		}
		id, _, err = topo.PickForWrite(WriteOption{DataNode: a.url()})
		if err != nil || id < 1 || id > 3 {
			t.Fatalf("node pick %d, %v; want one of a's", id, err)
		}
	}
	if _, _, err := topo.PickForWrite(WriteOption{DataCenter: "dc9"}); !errors.Is(err, ErrNoWritable) {
		t.Fatalf("unknown data center pick: %v", err)
	}
	if _, _, err := topo.PickForWrite(WriteOption{Collection: "nosuch"}); !errors.Is(err, ErrNoWritable) {
		t.Fatalf("unknown collection pick: %v", err)
	}
}

func TestAddVolumeIsWritableBeforeTheHeartbeat(t *testing.T) {
	topo := newTopo(1)
	a := server{dc: "dc1", rack: "r1", port: 8080, max: 5}
	b := server{dc: "dc1", rack: "r2", port: 8081, max: 5}
	beat(t, topo, a.full(), t0)
	beat(t, topo, b.full(), t0)
	v := VolumeInfo{ID: 11, Collection: "c", Placement: placement(t, "010"), Version: 3}
	for _, u := range []string{a.url(), b.url()} {
		if err := topo.AddVolume(u, v); err != nil {
			t.Fatal(err)
		}
	}
	checkInvariants(t, topo)
	id, locs, err := topo.PickForWrite(WriteOption{Collection: "c", Placement: placement(t, "010")})
	if err != nil || id != 11 || len(locs) != 2 {
		t.Fatalf("pick %d %v %v", id, locs, err)
	}
	if topo.FreeSlots("") != 8 {
		t.Fatalf("free slots %d, want 8", topo.FreeSlots(""))
	}
	if err := topo.AddVolume("127.0.0.1:1", v); !errors.Is(err, ErrUnknownDataNode) {
		t.Fatalf("unknown node: %v", err)
	}
	other := v
	other.Collection = "d"
	if err := topo.AddVolume(a.url(), VolumeInfo{ID: 11, Collection: "d"}); !errors.Is(err, ErrDuplicateVolume) {
		t.Fatalf("id of another layout: %v", err)
	}
	// The heartbeat that follows agrees: nothing changes.
	res := beat(t, topo, b.full(vol(11, "c", "010", 0)), t0)
	if len(res.NewVolumes) != 0 {
		t.Fatalf("heartbeat after AddVolume announced %v as new", res.NewVolumes)
	}
}

func TestCollections(t *testing.T) {
	topo := newTopo(1)
	a := server{dc: "dc1", rack: "r1", port: 8080, max: 10}
	b := server{dc: "dc1", rack: "r1", port: 8081, max: 10}
	v := func(id uint32, size, files, dels, delBytes uint64) *pb.VolumeInformation {
		x := vol(id, "pics", "001", size)
		x.FileCount, x.DeleteCount, x.DeletedByteCount = files, dels, delBytes
		return x
	}
	beat(t, topo, a.full(v(1, 100, 10, 2, 20), v(2, 50, 5, 0, 0), vol(3, "", "000", 7)), t0)
	beat(t, topo, b.full(v(1, 90, 9, 2, 20), v(2, 50, 5, 0, 0)), t0)
	st, err := topo.CollectionStats("pics")
	want := CollectionStats{Collection: "pics", FileCount: 8 + 5, TotalSize: 100 + 90 + 50 + 50, UsedSize: 80 + 50, VolumeCount: 2}
	if err != nil || st != want {
		t.Fatalf("stats %+v %v, want %+v", st, err, want)
	}
	servers, err := topo.CollectionServers("pics")
	if err != nil || !reflect.DeepEqual(servers, []string{a.url(), b.url()}) {
		t.Fatalf("servers %v %v", servers, err)
	}
	ids, err := topo.DeleteCollection("pics")
	checkInvariants(t, topo)
	if err != nil || !reflect.DeepEqual(ids, []uint32{1, 2}) {
		t.Fatalf("deleted %v %v", ids, err)
	}
	if _, err := topo.Lookup(1, ""); !errors.Is(err, ErrVolumeNotFound) {
		t.Fatal("volume 1 still found after its collection was deleted")
	}
	if _, err := topo.Lookup(3, ""); err != nil {
		t.Fatal("volume 3 of another collection must stay")
	}
	for _, f := range []func() error{
		func() error { _, err := topo.CollectionStats("pics"); return err },
		func() error { _, err := topo.CollectionServers("pics"); return err },
		func() error { _, err := topo.DeleteCollection("pics"); return err },
	} {
		if err := f(); !errors.Is(err, ErrUnknownCollection) {
			t.Fatalf("unknown collection: %v", err)
		}
	}
}

// TestOverReplicatedVolume: a volume with more live copies than its
// placement asks is writable only with ReplicationAsMin.
func TestOverReplicatedVolume(t *testing.T) {
	for _, asMin := range []bool{false, true} {
		topo := New(Config{VolumeSizeLimit: testLimit, ReplicationAsMin: asMin})
		for port := uint32(8080); port < 8083; port++ {
			beat(t, topo, server{dc: "dc1", rack: "r1", port: port, max: 5}.full(vol(3, "", "001", 0)), t0)
		}
		st, _ := topo.VolumeState(3)
		if st.Replicas != 3 || st.Writable != asMin {
			t.Fatalf("asMin=%v: %+v", asMin, st)
		}
	}
}
