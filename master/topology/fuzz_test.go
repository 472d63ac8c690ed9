package topology

import (
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"weedfs.dev/weed/pb"
)

// FuzzProcessHeartbeat: heartbeat bodies from the network never panic the
// topology and never break its invariants, alone or after a valid state.
func FuzzProcessHeartbeat(f *testing.F) {
	a := server{dc: "dc1", rack: "r1", port: 8080, max: 10}
	seeds := []*pb.Heartbeat{
		a.full(vol(1, "", "000", 0), vol(2, "c", "001", 950), vol(3, "", "010", 2000)),
		{Ip: "127.0.0.1", Port: 8080, NewVolumes: []*pb.VolumeShortInformation{{Id: 9, Ttl: 3<<8 | 1}},
			DeletedVolumes: []*pb.VolumeShortInformation{{Id: 1}}},
		{Ip: "127.0.0.1", Port: 8081, DataCenter: "dc2", Full: true,
			Volumes: []*pb.VolumeInformation{{Id: 1, Collection: "other"}, {Id: 4, ReplicaPlacement: 999}}},
	}
	for _, s := range seeds {
		b, _ := proto.Marshal(s)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var hb pb.Heartbeat
		if proto.Unmarshal(data, &hb) != nil {
			return
		}
		topo := newTopo(1)
		beat(t, topo, a.full(vol(1, "", "000", 0), vol(2, "c", "001", 0)), t0)
		beat(t, topo, server{dc: "dc1", rack: "r2", port: 8081, max: 5}.full(vol(2, "c", "001", 0)), t0)
		if _, err := topo.ProcessHeartbeat(&hb, t0.Add(time.Second)); err != nil {
			return
		}
		checkInvariants(t, topo)
		topo.Expire(t0.Add(time.Hour), time.Minute)
		checkInvariants(t, topo)
		_ = topo.Info()
		_ = topo.VolumeMap()
		_, _ = topo.PlanGrowth(WriteOption{}, 2)
	})
}
