package topology

import (
	"fmt"
	"testing"
	"time"

	"weedfs.dev/weed/pb"
)

// benchTopology: 3 data centers x 4 racks x 5 servers, 100 volumes each of
// placement 000 (6,000 volumes), all writable.
func benchTopology(b *testing.B) (*Topology, []*pb.Heartbeat) {
	topo := newTopo(1)
	var hbs []*pb.Heartbeat
	id := uint32(0)
	port := uint32(8000)
	for dc := range 3 {
		for r := range 4 {
			for range 5 {
				port++
				var vols []*pb.VolumeInformation
				for range 100 {
					id++
					vols = append(vols, vol(id, "", "000", uint64(id)%500))
				}
				hb := server{dc: fmt.Sprint("dc", dc), rack: fmt.Sprint("r", r), port: port, max: 200}.full(vols...)
				if _, err := topo.ProcessHeartbeat(hb, t0); err != nil {
					b.Fatal(err)
				}
				hbs = append(hbs, hb)
			}
		}
	}
	return topo, hbs
}

func BenchmarkPickForWrite(b *testing.B) {
	topo, _ := benchTopology(b)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, _, err := topo.PickForWrite(WriteOption{}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkLookup(b *testing.B) {
	topo, _ := benchTopology(b)
	b.ReportAllocs()
	i := uint32(0)
	for b.Loop() {
		i = i%6000 + 1
		if _, err := topo.Lookup(i, ""); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFullHeartbeat: a steady-state full report of 100 volumes.
func BenchmarkFullHeartbeat(b *testing.B) {
	topo, hbs := benchTopology(b)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		if _, err := topo.ProcessHeartbeat(hbs[i%len(hbs)], t0.Add(time.Duration(i))); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPlanGrowth010(b *testing.B) {
	topo, _ := benchTopology(b)
	o := WriteOption{Placement: placement(b, "010")}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := topo.PlanGrowth(o, 6); err != nil {
			b.Fatal(err)
		}
	}
}
