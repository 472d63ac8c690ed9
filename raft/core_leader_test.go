package raft

import (
	"errors"
	"slices"
	"testing"

	"weedfs.dev/weed/raft/raftpb"
)

func TestTransferLeadership(t *testing.T) {
	n := newTestNet(t, 3, preVoteCheckQuorum)
	n.campaign(1)
	// 3 is behind: the leader catches it up first, then MSG_TIMEOUT_NOW.
	n.isolate(3)
	_, err := n.propose(1, "a")
	must(t, err)
	n.heal()
	var timeoutNow int
	n.filter = func(m *raftpb.Message) bool {
		if m.Type == raftpb.MessageType_MSG_TIMEOUT_NOW {
			timeoutNow++
		}
		return true
	}
	n.cores[1].TransferLeadership(3)
	if _, _, err := n.cores[1].Propose([]byte("during")); !errors.Is(err, ErrProposalDropped) {
		t.Fatalf("proposal during transfer: %v, want ErrProposalDropped", err)
	}
	n.stabilize()
	if n.leader() != 3 || timeoutNow != 1 {
		t.Fatalf("leader %d after transfer (%d MSG_TIMEOUT_NOW), want 3", n.leader(), timeoutNow)
	}
	if got := n.appliedData(3); !slices.Equal(got, []string{"a"}) {
		t.Fatalf("new leader applied %q", got)
	}
}

func TestTransferAbortedAfterElectionTimeout(t *testing.T) {
	n := newTestNet(t, 3, nil)
	n.campaign(1)
	n.isolate(3)
	n.cores[1].TransferLeadership(3)
	n.stabilize()
	if n.cores[1].Status().LeadTransferee != 3 {
		t.Fatalf("transfer not pending")
	}
	n.tick(1, 10)
	if st := n.cores[1].Status(); st.LeadTransferee != 0 || st.Role != RoleLeader {
		t.Fatalf("transfer not aborted: %+v", st)
	}
	if _, err := n.propose(1, "b"); err != nil {
		t.Fatalf("proposal after abort: %v", err)
	}
}

func TestReadIndex(t *testing.T) {
	n := newTestNet(t, 3, nil)
	n.campaign(1)
	_, err := n.propose(1, "a")
	must(t, err)
	commit := n.cores[1].Status().Commit
	// On the leader: answered after a heartbeat round.
	must(t, n.cores[1].ReadIndex([]byte("r1")))
	n.stabilize()
	if got := n.reads[1]; len(got) != 1 || string(got[0].Context) != "r1" || got[0].Index != commit {
		t.Fatalf("leader read states %+v, want r1 at %d", got, commit)
	}
	// On a follower: forwarded to the leader.
	must(t, n.cores[2].ReadIndex([]byte("r2")))
	n.stabilize()
	if got := n.reads[2]; len(got) != 1 || string(got[0].Context) != "r2" || got[0].Index != commit {
		t.Fatalf("follower read states %+v, want r2 at %d", got, commit)
	}
	// An isolated leader cannot confirm its leadership: no answer.
	n.isolate(1)
	must(t, n.cores[1].ReadIndex([]byte("r3")))
	n.tick(1, 3)
	if got := n.reads[1]; len(got) != 1 {
		t.Fatalf("isolated leader answered a read: %+v", got)
	}
}

// A new leader answers reads only once an entry of its term commits: until
// then its commit index may be behind the previous leader's.
func TestReadIndexWaitsForOwnTermCommit(t *testing.T) {
	n := newTestNet(t, 3, nil)
	// Hold back every append so the new leader's noop cannot commit.
	n.filter = func(m *raftpb.Message) bool { return m.Type != raftpb.MessageType_MSG_APP }
	n.campaign(1)
	must(t, n.cores[1].ReadIndex([]byte("early")))
	n.tick(1, 3)
	if len(n.reads[1]) != 0 {
		t.Fatalf("read answered before the leader committed in its term: %+v", n.reads[1])
	}
	n.filter = nil
	n.tick(1, 2)
	if got := n.reads[1]; len(got) != 1 || string(got[0].Context) != "early" {
		t.Fatalf("read not answered after commit: %+v", got)
	}
	if got, st := n.reads[1][0].Index, n.cores[1].Status(); got < 2 || got > st.Commit {
		t.Fatalf("read index %d, commit %d", got, st.Commit)
	}
}

func TestLeaseRead(t *testing.T) {
	_, err := NewCore(CoreConfig{ID: 1, ElectionTick: 10, HeartbeatTick: 1, Log: NewMemoryLogStore(), LeaseRead: true}, nil, nil, nil)
	if !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("LeaseRead without CheckQuorum: %v", err)
	}
	n := newTestNet(t, 3, func(c *CoreConfig) { c.CheckQuorum = true; c.LeaseRead = true })
	// Freshly (re)started peers honour a lease they may have promised: no
	// vote for an election timeout.
	n.campaign(1)
	if n.leader() != 0 {
		t.Fatalf("a peer voted within its restart lease")
	}
	n.tickAll(10)
	n.campaign(1)
	if n.leader() != 1 {
		t.Fatalf("leader %d, want 1", n.leader())
	}
	n.tick(1, 1) // a heartbeat round starts the lease
	var heartbeats int
	n.filter = func(m *raftpb.Message) bool {
		if m.Type == raftpb.MessageType_MSG_HEARTBEAT {
			heartbeats++
		}
		return true
	}
	must(t, n.cores[1].ReadIndex([]byte("lease")))
	n.stabilize()
	if len(n.reads[1]) != 1 || heartbeats != 0 {
		t.Fatalf("lease read: states %+v after %d heartbeats, want an answer without a round", n.reads[1], heartbeats)
	}
	// Cut off, the leader's lease runs out before any peer would vote for
	// another leader; then reads wait for a quorum.
	// (ElectionTick 10 minus a margin of 2: valid for 7 ticks, not 8.)
	n.isolate(1)
	n.tick(1, 8)
	must(t, n.cores[1].ReadIndex([]byte("late")))
	n.stabilize()
	if len(n.reads[1]) != 1 {
		t.Fatalf("read answered after the lease expired: %+v", n.reads[1])
	}
}

// A follower that rejects tells the leader where its log may match, so the
// leader skips a whole divergent term in one round trip (both ways: the
// follower skips the leader's unknown term, the leader the follower's).
func TestFastBacktracking(t *testing.T) {
	n := newTestNet(t, 3, nil)
	n.campaign(1)
	// 1 writes 20 entries no one else sees.
	n.isolate(1)
	for range 20 {
		_, _, err := n.cores[1].Propose([]byte("lost"))
		must(t, err)
	}
	n.stabilize()
	// 2 leads term 3 with 3 and writes 20 entries of its own.
	n.campaign(2)
	for range 20 {
		_, err := n.propose(2, "kept")
		must(t, err)
	}
	// 3 leads term 4 with 1's vote: it starts probing 1 at its own last
	// index, 20 entries of a term 1 never saw above 1's common prefix.
	n.heal()
	n.isolate(2)
	var rejects int
	n.filter = func(m *raftpb.Message) bool {
		if m.Type == raftpb.MessageType_MSG_APP_RESP && m.Reject {
			rejects++
		}
		return true
	}
	n.campaign(3)
	if n.leader() != 3 {
		t.Fatalf("leader %d, want 3", n.leader())
	}
	if got := n.appliedData(1); len(got) != 20 || slices.Contains(got, "lost") {
		t.Fatalf("1 applied %q, want 20 times kept", got)
	}
	if rejects > 2 {
		t.Fatalf("%d rejections to skip one divergent term, want <= 2", rejects)
	}
}

// Pipelining: in the replicate state the leader keeps several MSG_APP in
// flight, bounded by count and by bytes.
func TestInflightWindow(t *testing.T) {
	for _, tc := range []struct {
		count    int
		bytes    uint64
		wantMax  int
		dataSize int
	}{
		{count: 3, bytes: 0, wantMax: 3, dataSize: 10},
		{count: 100, bytes: 25, wantMax: 3, dataSize: 10}, // 3 messages reach 30 bytes >= 25
	} {
		n := newTestNet(t, 2, func(c *CoreConfig) {
			c.MaxInflightMsgs, c.MaxInflightBytes, c.MaxSizePerMsg = tc.count, tc.bytes, 1
		})
		n.campaign(1)
		// Hold 2's acks so the window fills.
		n.filter = func(m *raftpb.Message) bool { return m.Type != raftpb.MessageType_MSG_APP_RESP }
		var apps int
		prev := n.filter
		n.filter = func(m *raftpb.Message) bool {
			if m.Type == raftpb.MessageType_MSG_APP && len(m.Entries) > 0 {
				apps++
			}
			return prev(m)
		}
		for range 10 {
			_, _, err := n.cores[1].Propose(make([]byte, tc.dataSize))
			must(t, err)
		}
		n.stabilize()
		if apps != tc.wantMax {
			t.Fatalf("count %d bytes %d: %d MSG_APP in flight, want %d", tc.count, tc.bytes, apps, tc.wantMax)
		}
		if st := n.cores[1].Status(); st.Progress[2].State != ProgressReplicate || st.Progress[2].Inflight != tc.wantMax {
			t.Fatalf("progress %+v", st.Progress[2])
		}
	}
}

func TestSnapshotToLaggingFollower(t *testing.T) {
	n := newTestNet(t, 3, nil)
	n.campaign(1)
	n.isolate(3)
	for i := range 10 {
		_, err := n.propose(1, string(rune('a'+i)))
		must(t, err)
	}
	// Leader snapshots at its applied index and compacts its log.
	st := n.cores[1].Status()
	term, _ := n.logs[1].Term(st.Applied)
	meta := &raftpb.SnapshotMeta{Index: st.Applied, Term: term, Conf: st.Conf}
	n.cores[1].SetSnapshot(meta)
	n.snaps[1] = meta
	must(t, n.logs[1].Compact(st.Applied, term))
	n.heal()
	var snaps int
	n.filter = func(m *raftpb.Message) bool {
		if m.Type == raftpb.MessageType_MSG_SNAP {
			snaps++
		}
		return true
	}
	n.tick(1, 2)
	if snaps != 1 || n.snaps[3] == nil || n.snaps[3].Index != meta.Index {
		t.Fatalf("follower got %d MSG_SNAP, installed %v, want the snapshot at %d", snaps, n.snaps[3], meta.Index)
	}
	_, err := n.propose(1, "after")
	must(t, err)
	if got := n.appliedData(3); !slices.Equal(got, []string{"after"}) {
		t.Fatalf("follower applied %q after the snapshot, want [after]", got)
	}
	if pr := n.cores[1].Status().Progress[3]; pr.State != ProgressReplicate || pr.Match != n.cores[1].Status().LastIndex {
		t.Fatalf("progress after snapshot %+v", pr)
	}
}

// BenchmarkCoreReplication measures the pure core: proposals replicated and
// committed in a three-peer cluster over an instantaneous network with
// memory storage (no fsync, no sockets, no message copies), 64 proposals
// per round.
func BenchmarkCoreReplication(b *testing.B) {
	n := newTestNet(b, 3, func(c *CoreConfig) { c.MaxInflightMsgs = 256 })
	n.shared = true
	n.campaign(1)
	data := make([]byte, 128)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, _, err := n.cores[1].Propose(data); err != nil {
			b.Fatal(err)
		}
		if i%64 == 63 {
			n.stabilize()
		}
	}
	n.stabilize()
	b.StopTimer()
	if got := n.cores[3].Status().Applied; got < uint64(b.N) {
		b.Fatalf("applied %d of %d", got, b.N)
	}
}
