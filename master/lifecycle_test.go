package master

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"runtime"
	"testing"
	"time"

	"weedfs.dev/weed/client"
	"weedfs.dev/weed/master/topology"
	"weedfs.dev/weed/storage/needle"
)

func TestDeadVolumeServerLeavesLookups(t *testing.T) {
	m := oneMaster(t, Config{VacuumInterval: -1})
	v1 := startVolume(t, []string{m.addr}, t.TempDir(), 8, "", "")
	v2 := startVolume(t, []string{m.addr}, t.TempDir(), 8, "", "")
	waitNodes(t, m, 2)
	a := assignOK(t, m.addr, url.Values{"dataNode": {v2.addr}})
	fid, _ := needle.ParseFileID(a.Fid)
	if a.URL != v2.addr {
		t.Fatalf("dataNode=%s assigned on %s", v2.addr, a.URL)
	}
	v2.stop()
	// A few pulses without a beat: the node is dead.
	waitFor(t, 5*time.Second, "the silent server to expire", func() bool {
		resp, _ := get(t, m.addr, "/dir/lookup", url.Values{"volumeId": {a.Fid}})
		return resp.StatusCode == http.StatusNotFound
	})
	for _, n := range m.Topology().Nodes() {
		if n.URL == v2.addr && n.Alive {
			t.Fatal("stopped server still alive")
		}
	}
	_, b := get(t, m.addr, "/dir/status", nil)
	if bytes.Contains(b, []byte(v2.addr)) {
		t.Fatalf("/dir/status still lists the dead server: %s", b)
	}
	// Assigns go to the live server only.
	for range 20 {
		if a := assignOK(t, m.addr, nil); a.URL != v1.addr {
			t.Fatalf("assigned on %s, a dead server", a.URL)
		}
	}
	if _, err := m.Topology().Lookup(fid.VolumeID, ""); err == nil {
		t.Fatalf("volume %d of the dead server still found", fid.VolumeID)
	}
}

func TestCrowdedLayoutGrowsAheadOfNeed(t *testing.T) {
	m := oneMaster(t, Config{VacuumInterval: -1, VolumeSizeLimitMB: 1})
	v := startVolume(t, []string{m.addr}, t.TempDir(), 8, "", "")
	waitNodes(t, m, 1)
	resp, b := get(t, m.addr, "/vol/grow", url.Values{"count": {"1"}, "collection": {"c"}})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/vol/grow: %d %s", resp.StatusCode, b)
	}
	key := topology.LayoutKey{Collection: "c", Placement: m.placement}
	if n := m.Topology().WritableCount(key); n != 1 {
		t.Fatalf("%d writable volumes after growing one", n)
	}
	// Fill the volume past 90% of the 1 MB limit.
	c := client.New([]string{m.addr}, client.Options{})
	a := assignOK(t, m.addr, url.Values{"collection": {"c"}})
	if _, err := c.Upload(context.Background(), a.URL, a.Fid, bytes.Repeat([]byte{7}, 960<<10), client.UploadOptions{}); err != nil {
		t.Fatal(err)
	}
	fid, _ := needle.ParseFileID(a.Fid)
	waitFor(t, 5*time.Second, "the heartbeat to report the crowded volume", func() bool {
		st, _ := m.Topology().VolumeState(fid.VolumeID)
		return st.Crowded
	})
	// The next assign still succeeds on the crowded volume and starts
	// growth in the background.
	assignOK(t, m.addr, url.Values{"collection": {"c"}})
	waitFor(t, 5*time.Second, "growth ahead of need", func() bool { return m.Topology().WritableCount(key) > 1 })
	if len(v.store.Volumes()) < 2 {
		t.Fatalf("the server holds %d volumes", len(v.store.Volumes()))
	}

	// Past the limit the volume is full and takes no more assigns.
	found := false
	for range 1000 {
		a = assignOK(t, m.addr, url.Values{"collection": {"c"}})
		if id, _ := needle.ParseFileID(a.Fid); id.VolumeID == fid.VolumeID {
			found = true
			break
		}
	}
	if !found {
		t.Fatalf("the crowded volume %d was never assigned in 1000 tries", fid.VolumeID)
	}
	if _, err := c.Upload(context.Background(), a.URL, a.Fid, bytes.Repeat([]byte{8}, 200<<10), client.UploadOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the volume to be full", func() bool {
		st, _ := m.Topology().VolumeState(fid.VolumeID)
		return st.Full && !st.Writable
	})
	for range 30 {
		if id, _ := needle.ParseFileID(assignOK(t, m.addr, url.Values{"collection": {"c"}}).Fid); id.VolumeID == fid.VolumeID {
			t.Fatalf("full volume %d assigned", fid.VolumeID)
		}
	}
}

func TestGrowthHonoursDataCenterConstraints(t *testing.T) {
	m := oneMaster(t, Config{VacuumInterval: -1})
	v1 := startVolume(t, []string{m.addr}, t.TempDir(), 8, "dc1", "r1")
	v2 := startVolume(t, []string{m.addr}, t.TempDir(), 8, "dc2", "r1")
	waitNodes(t, m, 2)
	for _, tc := range []struct {
		dc   string
		want *testVolume
	}{{"dc1", v1}, {"dc2", v2}, {"dc1", v1}} {
		a := assignOK(t, m.addr, url.Values{"dataCenter": {tc.dc}})
		if a.URL != tc.want.addr {
			t.Fatalf("dataCenter=%s assigned on %s, want %s", tc.dc, a.URL, tc.want.addr)
		}
	}
	// The second data center got volumes of its own although the layout
	// already had writable ones in the first.
	if len(v2.store.Volumes()) == 0 {
		t.Fatal("no volume grown in dc2")
	}
	// 100 puts a copy in each data center.
	a := assignOK(t, m.addr, url.Values{"replication": {"100"}})
	fid, _ := needle.ParseFileID(a.Fid)
	locs, _ := m.Topology().Lookup(fid.VolumeID, "")
	if len(locs) != 2 || locs[0].DataCenter == locs[1].DataCenter {
		t.Fatalf("replication 100 placed %v", locs)
	}
}

func TestCloseStopsEveryGoroutine(t *testing.T) {
	httpClient.CloseIdleConnections()
	before := runtime.NumGoroutine()
	func() {
		m := oneMaster(t, Config{VacuumInterval: -1})
		v := startVolume(t, []string{m.addr}, t.TempDir(), 8, "", "")
		waitNodes(t, m, 1)
		assignOK(t, m.addr, nil)
		get(t, m.addr, "/vol/vacuum", nil)
		v.stop()
		m.stop()
		m.Server.http.CloseIdleConnections()
		v.Server.Stop()
	}()
	httpClient.CloseIdleConnections()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<20)
		t.Fatalf("%d goroutines after Close, %d before:\n%s", n, before, buf[:runtime.Stack(buf, true)])
	}
}

// An assign that arrives while a new leader is still warming up (volume
// servers may not all have reported) waits for the end of the first pulse
// and then grows a volume, instead of failing: the first assign after
// `weed server` starts is slow, not refused.
func TestFirstAssignWaitsOutWarmUp(t *testing.T) {
	const pulse = 1500 * time.Millisecond
	m := oneMaster(t, Config{VacuumInterval: -1, Pulse: pulse})
	startVolume(t, []string{m.addr}, t.TempDir(), 8, "", "")
	waitFor(t, 5*time.Second, "the volume server to report", func() bool {
		nodes := m.Topology().Nodes()
		return len(nodes) == 1 && nodes[0].Alive && m.view.Load().ready
	})
	since := m.view.Load().since
	if time.Since(since) >= pulse {
		t.Skip("the machine was too slow to assign within the warm-up")
	}
	a := assignOK(t, m.addr, nil)
	if a.Fid == "" {
		t.Fatalf("assign during warm-up = %+v", a)
	}
	if el := time.Since(since); el < pulse {
		t.Errorf("assign answered %v after leadership, before the warm-up pulse %v ended", el, pulse)
	}
}
