package mount_test

import (
	"encoding/json"
	"net/http"
	"syscall"
	"testing"
)

// statfs on the mount reports the cluster's capacity as the master's
// /dir/status gives it: every volume slot at the volume size limit, less
// what the volumes hold.
func TestStatfsReportsClusterCapacity(t *testing.T) {
	requireFUSE(t)
	fe := newFilerEnv(t)
	resp, err := http.Get("http://" + fe.cluster.Master + "/dir/status")
	if err != nil {
		t.Fatal(err)
	}
	var ds struct {
		Topology                  struct{ Max uint64 }
		VolumeSizeLimit, UsedSize uint64
	}
	err = json.NewDecoder(resp.Body).Decode(&ds)
	resp.Body.Close()
	if err != nil || ds.Topology.Max == 0 || ds.VolumeSizeLimit == 0 {
		t.Fatalf("/dir/status: %+v, %v", ds, err)
	}
	dir, _ := fe.mount(t)
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	total := ds.Topology.Max * ds.VolumeSizeLimit
	if got := st.Blocks * uint64(st.Bsize); got != total {
		t.Errorf("statfs size %d bytes, want %d volume slots x %d = %d", got, ds.Topology.Max, ds.VolumeSizeLimit, total)
	}
	if free := st.Bfree * uint64(st.Bsize); free > total || total-free > ds.UsedSize+1<<20 {
		t.Errorf("statfs free %d of %d bytes, with %d used", free, total, ds.UsedSize)
	}
}
