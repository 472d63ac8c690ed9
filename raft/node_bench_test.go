package raft_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"weedfs.dev/weed/raft"
)

// BenchmarkPropose measures the driver and core without disks or sockets:
// 3 nodes over the in-memory transport, 64-byte commands from 16 proposers.
// The WAL and HTTP figures are in the bench module (bench/).
func BenchmarkPropose(b *testing.B) {
	for _, proposers := range []int{1, 16} {
		b.Run(fmt.Sprintf("proposers=%d", proposers), func(b *testing.B) {
			c := newMemCluster(b, 3, func(cfg *raft.Config) { cfg.TickInterval = 50 * time.Millisecond })
			lead := c.leader(10 * time.Second)
			cmd := make([]byte, 64)
			b.SetParallelism(proposers)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := lead.r.Propose(context.Background(), cmd); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
