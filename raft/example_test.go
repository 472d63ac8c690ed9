package raft_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"sync"
	"time"

	"weedfs.dev/weed/raft"
	"weedfs.dev/weed/raft/memtransport"
	"weedfs.dev/weed/raft/raftpb"
)

// counter is a tiny state machine: every command adds its 8-byte value.
type counter struct {
	mu  sync.Mutex
	sum uint64
}

func (c *counter) Apply(e *raftpb.Entry) any {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sum += binary.BigEndian.Uint64(e.Data)
	return c.sum
}

func (c *counter) Snapshot(w io.Writer) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return binary.Write(w, binary.BigEndian, c.sum)
}

func (c *counter) Restore(r io.Reader) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return binary.Read(r, binary.BigEndian, &c.sum)
}

func (c *counter) value() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sum
}

// Example runs a 3-node cluster in memory: bootstrap, wait for a leader,
// propose through it, and read linearizably on a follower.
func Example() {
	ctx := context.Background()
	network := memtransport.NewNetwork(1)
	members := []*raftpb.Member{{Id: 1, Address: "a"}, {Id: 2, Address: "b"}, {Id: 3, Address: "c"}}
	nodes := make([]*raft.Raft, 3)
	fsms := make([]*counter, 3)
	for i, m := range members {
		cfg := raft.DefaultConfig()
		cfg.ID, cfg.ClusterID = m.Id, 1
		cfg.TickInterval = 50 * time.Millisecond // a faster clock than the default 100 ms
		fsms[i] = &counter{}
		r, err := raft.New(cfg, fsms[i], raft.NewMemoryLogStore(), raft.NewMemoryStableStore(),
			raft.NewMemorySnapshotStore(), network.NewTransport(m.Address))
		if err != nil {
			fmt.Println(err)
			return
		}
		defer r.Close()
		if err := r.Bootstrap(ctx, members); err != nil {
			fmt.Println(err)
			return
		}
		nodes[i] = r
	}

	// Wait for a leader, then propose to it.
	var leader *raft.Raft
	for leader == nil {
		for _, r := range nodes {
			if r.Status().Role == raft.RoleLeader {
				leader = r
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, v := range []uint64{1, 2, 39} {
		res, err := leader.Propose(ctx, binary.BigEndian.AppendUint64(nil, v))
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println("sum after apply:", res)
	}

	// A linearizable read on a follower sees every committed write.
	for i, r := range nodes {
		if r != leader {
			if err := r.LinearizableRead(ctx); err != nil {
				fmt.Println(err)
				return
			}
			fmt.Println("follower reads", fsms[i].value())
			break
		}
	}
	// Output:
	// sum after apply: 1
	// sum after apply: 3
	// sum after apply: 42
	// follower reads 42
}
