package raft_test

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"weedfs.dev/weed/raft/memtransport"
)

// TestChaos runs 5 nodes under load on a lossy, duplicating, reordering
// network while partitions, isolations and node restarts come and go. Once
// the network heals, every node holds every acknowledged write and all
// agree.
func TestChaos(t *testing.T) {
	c := newMemCluster(t, 5, smallSnapshots)
	c.net.SetFaults(memtransport.Faults{Drop: 0.02, Duplicate: 0.02, Reorder: 0.02, Jitter: 2 * time.Millisecond})
	c.leader(20 * time.Second)

	var mu sync.Mutex
	acked := map[string]string{}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				k, v := fmt.Sprintf("w%d-%d", w, i), fmt.Sprint(i)
				ctx, cancel := context.WithTimeout(context.Background(), time.Second)
				err := propose(ctx, c.running, k+"="+v)
				cancel()
				if err == nil {
					mu.Lock()
					acked[k] = v
					mu.Unlock()
				}
			}
		}()
	}

	rng := rand.New(rand.NewPCG(7, 7))
	addrs := []string{"n1", "n2", "n3", "n4", "n5"}
	for round := 0; round < 12; round++ {
		switch rng.IntN(4) {
		case 0:
			c.net.Isolate(addrs[rng.IntN(5)])
		case 1:
			perm := rng.Perm(5)
			a, b := []string{}, []string{}
			for i, p := range perm {
				if i < 2 {
					a = append(a, addrs[p])
				} else {
					b = append(b, addrs[p])
				}
			}
			c.net.Partition(a, b)
		case 2:
			nd := c.nodes[uint64(rng.IntN(5)+1)]
			c.crash(nd)
			c.start(nd)
		case 3:
			c.net.Heal()
		}
		time.Sleep(150 * time.Millisecond)
	}
	c.net.Heal()
	// Progress after healing, then stop the load.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := propose(ctx, c.running, "healed=1"); err != nil {
		t.Fatal(err)
	}
	close(stop)
	wg.Wait()
	acked["healed"] = "1"
	t.Logf("%d writes acknowledged; network %+v", len(acked), c.net.Stats())

	var fsms []*kvFSM
	for _, nd := range c.nodes {
		fsms = append(fsms, nd.fsm)
	}
	// Writes whose proposer gave up may have committed too: the nodes must
	// agree on the whole state, which holds every acknowledged write.
	var detail string
	waitUntil(t, 20*time.Second, "identical states with every acknowledged write", func() bool {
		ref, _, _ := fsms[0].state()
		for k, v := range acked {
			if ref[k] != v {
				detail = "node 1 lacks " + k
				return false
			}
		}
		for i, f := range fsms[1:] {
			if s, _, _ := f.state(); !maps.Equal(ref, s) {
				detail = fmt.Sprintf("node %d differs from node 1", i+2)
				return false
			}
		}
		return true
	})
	_ = detail
	for _, nd := range c.nodes {
		if _, _, dupes := nd.fsm.state(); dupes != 0 {
			t.Fatalf("node %d applied entries twice", nd.id)
		}
		if st := nd.r.Status(); st.Err != nil {
			t.Fatalf("node %d stopped: %v", nd.id, st.Err)
		}
	}
}
