package state

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"weedfs.dev/weed/master/sequence"
	"weedfs.dev/weed/raft"
	"weedfs.dev/weed/raft/memtransport"
	"weedfs.dev/weed/raft/raftpb"
)

// replica is one master of an in-memory Raft group; its stores survive a
// restart (they play the disk), its State does not.
type replica struct {
	addr   string
	cfg    raft.Config
	r      *raft.Raft
	st     *State
	logs   *raft.MemoryLogStore
	stable *raft.MemoryStableStore
	snaps  *raft.MemorySnapshotStore
}

func (rp *replica) start(t *testing.T, net *memtransport.Network) {
	t.Helper()
	rp.st = New()
	r, err := raft.New(rp.cfg, rp.st, rp.logs, rp.stable, rp.snaps, net.NewTransport(rp.addr))
	if err != nil {
		t.Fatal(err)
	}
	rp.r = r
}

// eventually polls cond; the Raft group runs on real timers.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func snap(t *testing.T, s *State) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := s.Snapshot(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestReplicatedThroughRaft runs the state machine under the real Raft
// driver: three masters, automatic snapshots, a follower restarted from
// its snapshot and log. Every replica ends with the same bytes and no key
// is issued twice.
func TestReplicatedThroughRaft(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Raft group")
	}
	net := memtransport.NewNetwork(1)
	var members []*raftpb.Member
	reps := make([]*replica, 3)
	for i := range reps {
		id := uint64(i + 1)
		cfg := raft.DefaultConfig()
		cfg.ID, cfg.ClusterID, cfg.Seed = id, 9, int64(id)
		cfg.TickInterval = 20 * time.Millisecond
		cfg.SnapshotEntries, cfg.TrailingEntries = 40, 10
		reps[i] = &replica{addr: fmt.Sprint("m", id), cfg: cfg, logs: raft.NewMemoryLogStore(),
			stable: raft.NewMemoryStableStore(), snaps: raft.NewMemorySnapshotStore()}
		members = append(members, &raftpb.Member{Id: id, Address: reps[i].addr})
	}
	for _, rp := range reps {
		rp.start(t, net)
		if err := rp.r.Bootstrap(context.Background(), members); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		for _, rp := range reps {
			rp.r.Close()
		}
	})
	ctx := context.Background()
	seen := map[uint64]bool{}
	issue := func(n int) {
		t.Helper()
		var seq *sequence.Sequencer
		for attempt := 0; ; attempt++ {
			var lead *replica
			eventually(t, "a leader", func() bool {
				for _, rp := range reps {
					if rp.r.Status().Role == raft.RoleLeader {
						lead = rp
						return true
					}
				}
				return false
			})
			seq = sequence.New(Client{P: lead.r}, 16)
			k, err := seq.Next(ctx, 1)
			if err == nil {
				seen[k] = true
				break
			}
			seq.Close()
			if !errors.Is(err, raft.ErrNotLeader) || attempt > 50 {
				t.Fatal(err)
			}
		}
		defer seq.Close()
		for i := 1; i < n; i++ {
			k, err := seq.Next(ctx, 2)
			if err != nil {
				t.Fatal(err)
			}
			for j := k; j < k+2; j++ {
				if seen[j] {
					t.Fatalf("key %d issued twice", j)
				}
				seen[j] = true
			}
		}
	}
	same := func() bool {
		a := snap(t, reps[0].st)
		return bytes.Equal(a, snap(t, reps[1].st)) && bytes.Equal(a, snap(t, reps[2].st))
	}

	issue(300) // about 40 blocks of 16 keys: several automatic snapshots
	eventually(t, "replicas to agree", same)

	// Restart a follower: it restores its latest snapshot and replays the
	// log after it, while the others go on.
	var follower *replica
	for _, rp := range reps {
		if rp.r.Status().Role != raft.RoleLeader {
			follower = rp
		}
	}
	follower.r.Close()
	issue(200)
	follower.start(t, net)
	eventually(t, "the restarted follower to catch up", same)
	if follower.r.Status().SnapshotIndex == 0 {
		t.Fatal("no snapshot was taken: Snapshot/Restore went untested")
	}
	if reps[0].st.MaxKey() < uint64(len(seen)) {
		t.Fatalf("MaxKey %d below the %d keys issued", reps[0].st.MaxKey(), len(seen))
	}
}
