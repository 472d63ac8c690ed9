package memtransport

import (
	"bytes"
	"context"
	"errors"
	"io"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"weedfs.dev/weed/raft/raftpb"
)

// recorder is a raft.Handler that keeps what it receives.
type recorder struct {
	mu          sync.Mutex
	msgs        []*raftpb.Message
	snaps       [][]byte
	unreachable map[uint64]int
	block       chan struct{} // when non-nil, Receive waits on it
}

func newRecorder() *recorder { return &recorder{unreachable: map[uint64]int{}} }

func (r *recorder) Receive(m *raftpb.Message) {
	if r.block != nil {
		<-r.block
	}
	r.mu.Lock()
	r.msgs = append(r.msgs, m)
	r.mu.Unlock()
}

func (r *recorder) ReceiveSnapshot(_ context.Context, m *raftpb.Message, data io.Reader) error {
	b, err := io.ReadAll(data)
	if err != nil {
		return err
	}
	r.mu.Lock()
	r.snaps = append(r.snaps, b)
	r.msgs = append(r.msgs, m)
	r.mu.Unlock()
	return nil
}

func (r *recorder) ReportUnreachable(id uint64) {
	r.mu.Lock()
	r.unreachable[id]++
	r.mu.Unlock()
}

func (r *recorder) indexes() []uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []uint64
	for _, m := range r.msgs {
		out = append(out, m.Index)
	}
	return out
}

func (r *recorder) unreachableCount(id uint64) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.unreachable[id]
}

// waitFor polls cond until it holds or a generous deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// pair builds two connected endpoints "a" (id 1) and "b" (id 2).
func pair(t *testing.T, seed uint64) (*Network, *Transport, *Transport, *recorder, *recorder) {
	t.Helper()
	n := NewNetwork(seed)
	a, b := n.NewTransport("a"), n.NewTransport("b")
	ra, rb := newRecorder(), newRecorder()
	a.SetHandler(ra)
	b.SetHandler(rb)
	a.AddPeer(2, "b")
	b.AddPeer(1, "a")
	t.Cleanup(func() { a.Close(); b.Close() })
	return n, a, b, ra, rb
}

func msgs(from, to uint64, lo, hi uint64) []*raftpb.Message {
	var out []*raftpb.Message
	for i := lo; i < hi; i++ {
		out = append(out, &raftpb.Message{Type: raftpb.MessageType_MSG_APP, From: from, To: to, Index: i})
	}
	return out
}

func TestDeliversInOrderAndClones(t *testing.T) {
	_, a, _, _, rb := pair(t, 1)
	sent := msgs(1, 2, 0, 100)
	a.Send(sent)
	waitFor(t, "100 messages", func() bool { return len(rb.indexes()) == 100 })
	for i, idx := range rb.indexes() {
		if idx != uint64(i) {
			t.Fatalf("message %d has index %d: order not kept", i, idx)
		}
	}
	rb.mu.Lock()
	same := rb.msgs[0] == sent[0]
	rb.mu.Unlock()
	if same {
		t.Fatal("receiver got the sender's message pointer, want a copy")
	}
}

func TestDropAll(t *testing.T) {
	n, a, _, _, rb := pair(t, 2)
	n.SetFaults(Faults{Drop: 1})
	a.Send(msgs(1, 2, 0, 50))
	waitFor(t, "50 decisions", func() bool { return n.Stats().Dropped == 50 })
	if got := len(rb.indexes()); got != 0 {
		t.Fatalf("delivered %d messages with Drop=1", got)
	}
}

func TestDropSomeIsSeeded(t *testing.T) {
	run := func() Stats {
		n, a, _, _, _ := pair(t, 42)
		n.SetFaults(Faults{Drop: 0.3})
		a.Send(msgs(1, 2, 0, 200))
		waitFor(t, "200 decisions", func() bool { s := n.Stats(); return s.Dropped+s.Delivered == 200 })
		return n.Stats()
	}
	s1, s2 := run(), run()
	if s1.Dropped == 0 || s1.Dropped == 200 {
		t.Fatalf("Drop=0.3 dropped %d of 200", s1.Dropped)
	}
	if s1 != s2 {
		t.Fatalf("same seed, different fates: %+v vs %+v", s1, s2)
	}
}

func TestDuplicate(t *testing.T) {
	_, a, _, _, rb := pair(t, 3)
	a.net.SetLinkFaults("a", "b", Faults{Duplicate: 1})
	a.Send(msgs(1, 2, 0, 10))
	waitFor(t, "20 deliveries", func() bool { return len(rb.indexes()) == 20 })
	for i, idx := range rb.indexes() {
		if idx != uint64(i/2) {
			t.Fatalf("delivery %d has index %d, want each message twice in a row", i, idx)
		}
	}
}

func TestReorder(t *testing.T) {
	n, a, _, _, rb := pair(t, 4)
	n.SetFaults(Faults{Reorder: 1})
	a.Send(msgs(1, 2, 0, 4))
	waitFor(t, "4 deliveries", func() bool { return len(rb.indexes()) == 4 })
	got := rb.indexes()
	// Every message is a candidate; a held one goes after its successor.
	want := []uint64{1, 0, 3, 2}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got order %v, want %v", got, want)
		}
	}
}

func TestReorderedLastMessageIsFlushed(t *testing.T) {
	n, a, _, _, rb := pair(t, 5)
	n.SetFaults(Faults{Reorder: 1})
	a.Send(msgs(1, 2, 7, 8))
	waitFor(t, "the held message", func() bool { return len(rb.indexes()) == 1 })
}

func TestDelay(t *testing.T) {
	n, a, _, _, rb := pair(t, 6)
	n.SetFaults(Faults{Delay: 50 * time.Millisecond})
	start := time.Now()
	a.Send(msgs(1, 2, 0, 20))
	waitFor(t, "20 deliveries", func() bool { return len(rb.indexes()) == 20 })
	if el := time.Since(start); el < 50*time.Millisecond {
		t.Fatalf("delivered after %v, want at least the 50ms delay", el)
	}
}

func TestBlockReportsUnreachable(t *testing.T) {
	n, a, b, ra, rb := pair(t, 7)
	n.Block("a", "b")
	a.Send(msgs(1, 2, 0, 5))
	waitFor(t, "unreachable reports", func() bool { return ra.unreachableCount(2) == 5 })
	// The other direction still works.
	b.Send(msgs(2, 1, 0, 1))
	waitFor(t, "b->a", func() bool { return len(ra.indexes()) == 1 })
	if len(rb.indexes()) != 0 {
		t.Fatal("blocked link delivered")
	}
	n.Unblock("a", "b")
	a.Send(msgs(1, 2, 9, 10))
	waitFor(t, "after unblock", func() bool { return len(rb.indexes()) == 1 })
}

func TestIsolateAndPartition(t *testing.T) {
	n := NewNetwork(8)
	names := []string{"x", "y", "z"}
	ts := make([]*Transport, 3)
	rs := make([]*recorder, 3)
	for i, name := range names {
		ts[i] = n.NewTransport(name)
		rs[i] = newRecorder()
		ts[i].SetHandler(rs[i])
	}
	defer func() {
		for _, tr := range ts {
			tr.Close()
		}
	}()
	for i := range ts {
		for j, name := range names {
			if i != j {
				ts[i].AddPeer(uint64(j+1), name)
			}
		}
	}
	n.Isolate("z")
	ts[0].Send(msgs(1, 3, 0, 1))
	ts[2].Send(msgs(3, 2, 0, 1))
	ts[0].Send(msgs(1, 2, 0, 1))
	waitFor(t, "x->y", func() bool { return len(rs[1].indexes()) == 1 })
	waitFor(t, "blocked reports", func() bool { return rs[0].unreachableCount(3) == 1 && rs[2].unreachableCount(2) == 1 })
	if len(rs[2].indexes()) != 0 {
		t.Fatal("isolated endpoint received a message")
	}
	n.Heal()
	n.Partition([]string{"x"}, []string{"y", "z"})
	ts[1].Send(msgs(2, 3, 0, 1))
	ts[1].Send(msgs(2, 1, 0, 1))
	waitFor(t, "y->z inside a group", func() bool { return len(rs[2].indexes()) == 1 })
	waitFor(t, "y->x across groups reported", func() bool { return rs[1].unreachableCount(1) == 1 })
	if len(rs[0].indexes()) != 0 {
		t.Fatal("message crossed the partition")
	}
}

func TestQueueFullDrops(t *testing.T) {
	_, a, _, ra, rb := pair(t, 9)
	rb.block = make(chan struct{})
	a.Send(msgs(1, 2, 0, DefaultQueueSize+100))
	if ra.unreachableCount(2) < 99 {
		t.Fatalf("only %d unreachable reports with a full queue", ra.unreachableCount(2))
	}
	close(rb.block)
}

func TestUnknownPeerAndClosedEndpoint(t *testing.T) {
	n, a, b, ra, _ := pair(t, 10)
	a.Send(msgs(1, 99, 0, 1))
	if ra.unreachableCount(99) != 1 {
		t.Fatal("send to an unknown peer not reported")
	}
	b.Close()
	a.Send(msgs(1, 2, 0, 1))
	waitFor(t, "report for a closed peer", func() bool { return ra.unreachableCount(2) == 1 })
	// A restarted endpoint under the same address is reachable again.
	b2 := n.NewTransport("b")
	r2 := newRecorder()
	b2.SetHandler(r2)
	defer b2.Close()
	a.Send(msgs(1, 2, 5, 6))
	waitFor(t, "delivery to restarted endpoint", func() bool { return len(r2.indexes()) == 1 })
}

func TestSendSnapshot(t *testing.T) {
	n, a, _, _, rb := pair(t, 11)
	data := bytes.Repeat([]byte("snap"), 1000)
	m := &raftpb.Message{Type: raftpb.MessageType_MSG_SNAP, From: 1, To: 2}
	if err := a.SendSnapshot(context.Background(), m, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	rb.mu.Lock()
	got := rb.snaps[0]
	rb.mu.Unlock()
	if !bytes.Equal(got, data) {
		t.Fatal("snapshot data changed in transit")
	}
	n.Isolate("b")
	err := a.SendSnapshot(context.Background(), m, strings.NewReader("x"))
	if !errors.Is(err, ErrUnreachable) {
		t.Fatalf("snapshot to isolated peer: err %v, want ErrUnreachable", err)
	}
	a.Close()
	if err := a.SendSnapshot(context.Background(), m, strings.NewReader("x")); !errors.Is(err, ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
}

func TestCloseStopsGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	n := NewNetwork(12)
	var ts []*Transport
	for i, name := range []string{"p", "q", "r"} {
		tr := n.NewTransport(name)
		tr.SetHandler(newRecorder())
		for j := 1; j <= 3; j++ {
			if j != i+1 {
				tr.AddPeer(uint64(j), []string{"p", "q", "r"}[j-1])
			}
		}
		ts = append(ts, tr)
	}
	n.SetFaults(Faults{Delay: time.Hour})
	ts[0].Send(msgs(1, 2, 0, 3)) // a link goroutine parked in a long delay
	for _, tr := range ts {
		tr.RemovePeer(3)
		if err := tr.Close(); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "goroutines to exit", func() bool { return runtime.NumGoroutine() <= before })
}

func TestUnknownSenderIsLearned(t *testing.T) {
	n := NewNetwork(13)
	a, b := n.NewTransport("a"), n.NewTransport("b")
	ra, rb := newRecorder(), newRecorder()
	a.SetHandler(ra)
	b.SetHandler(rb)
	defer a.Close()
	defer b.Close()
	a.AddPeer(2, "b")
	a.Send(msgs(1, 2, 0, 1))
	waitFor(t, "a->b", func() bool { return len(rb.indexes()) == 1 })
	b.Send(msgs(2, 1, 0, 1)) // b was never told where 1 is
	waitFor(t, "b->a reply", func() bool { return len(ra.indexes()) == 1 })
}
