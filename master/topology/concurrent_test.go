package topology

import (
	"errors"
	"sync"
	"testing"
	"time"

	"weedfs.dev/weed/pb"
)

// TestConcurrentUse: heartbeats, expiry, picks, lookups and planning run
// at once (run with -race); the invariants hold at the end and every pick
// returned a volume with all its copies.
func TestConcurrentUse(t *testing.T) {
	topo := newTopo(3)
	var wg sync.WaitGroup
	for s := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			srv := server{dc: "dc1", rack: "r1", port: uint32(9000 + s), max: 50}
			for i := range 200 {
				var vols []*pb.VolumeInformation
				for id := uint32(1); id <= 20; id++ {
					if (int(id)+i+s)%5 != 0 {
						vols = append(vols, vol(id, "", "001", uint64(i*7%1200)))
					}
				}
				if _, err := topo.ProcessHeartbeat(srv.full(vols...), t0.Add(time.Duration(i)*time.Second)); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 2000 {
				_, locs, err := topo.PickForWrite(WriteOption{Placement: placement(t, "001")})
				if err == nil && len(locs) != 2 {
					t.Errorf("picked a volume with %d copies", len(locs))
					return
				}
				if err != nil && !errors.Is(err, ErrNoWritable) {
					t.Error(err)
					return
				}
				_, _ = topo.Lookup(3, "")
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range 200 {
			topo.Expire(t0.Add(time.Duration(i)*time.Second), 30*time.Second)
			_, _ = topo.PlanGrowth(WriteOption{Placement: placement(t, "001")}, 2)
			_ = topo.Info()
			topo.SetReadOnlyMark(uint32(i%20+1), i%2 == 0)
		}
	}()
	wg.Wait()
	checkInvariants(t, topo)
}
