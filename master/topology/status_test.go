package topology

import (
	"encoding/json"
	"testing"
)

func TestInfoJSONMatchesDirStatus(t *testing.T) {
	topo := newTopo(1)
	a := server{dc: "dc1", rack: "r1", port: 8080, max: 10}
	hb := a.full(vol(1, "", "000", 0), vol(2, "", "000", 0), vol(3, "", "000", 0), vol(7, "b", "000", 5000))
	hb.PublicUrl = "example.com:8080"
	beat(t, topo, hb, t0)
	got, err := json.Marshal(topo.Info())
	if err != nil {
		t.Fatal(err)
	}
	want := `{"Max":10,"Free":6,"DataCenters":[{"Id":"dc1","Racks":[{"Id":"r1","DataNodes":[` +
		`{"Url":"127.0.0.1:8080","PublicUrl":"example.com:8080","Volumes":4,"EcShards":0,"Max":10,"VolumeIds":" 1-3 7"}]}]}],` +
		`"Layouts":[{"replication":"000","ttl":"","writables":[1,2,3],"collection":"","diskType":"hdd"},` +
		`{"replication":"000","ttl":"","writables":null,"collection":"b","diskType":"hdd"}]}`
	if string(got) != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

func TestIDRanges(t *testing.T) {
	cases := map[string][]uint32{
		"":           nil,
		"5":          {5},
		"1-3 7 9-10": {10, 9, 7, 3, 2, 1},
		"29-51":      seq(29, 51),
		"1-100 ...":  seq(1, 150),
		"1 3 5 7-9":  {9, 8, 7, 5, 3, 1},
	}
	for want, ids := range cases {
		if got := idRanges(ids); got != want {
			t.Errorf("%v: got %q, want %q", ids, got, want)
		}
	}
}

func seq(a, b uint32) []uint32 {
	var out []uint32
	for i := a; i <= b; i++ {
		out = append(out, i)
	}
	return out
}

func TestVolumeMapJSONMatchesVolStatus(t *testing.T) {
	topo := newTopo(1)
	a := server{dc: "dc1", rack: "r1", port: 8080, max: 3}
	v := vol(4, "pics", "011", 123)
	v.Ttl = 5<<8 | 3
	v.FileCount, v.DeleteCount, v.DeletedByteCount, v.ReadOnly = 9, 1, 20, true
	v.CompactRevision, v.ModifiedAtSecond, v.DiskId = 2, 1700000000, 1
	beat(t, topo, a.full(v), t0)
	got, err := json.Marshal(topo.VolumeMap())
	if err != nil {
		t.Fatal(err)
	}
	want := `{"Max":3,"Free":2,"DataCenters":{"dc1":{"r1":{"127.0.0.1:8080":[{"Id":4,"Size":123,` +
		`"ReplicaPlacement":{"node":1,"rack":1},"Ttl":{"Count":5,"Unit":3},"DiskType":"","DiskId":1,` +
		`"Collection":"pics","Version":3,"FileCount":9,"DeleteCount":1,"DeletedByteCount":20,"ReadOnly":true,` +
		`"CompactRevision":2,"ModifiedAtSecond":1700000000,"RemoteStorageName":""}]}}}}`
	if string(got) != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}
