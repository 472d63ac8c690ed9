package httptransport

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"weedfs.dev/weed/raft/raftpb"
)

const testCluster = 7

// recorder is a raft.Handler that keeps what it receives.
type recorder struct {
	mu          sync.Mutex
	msgs        []*raftpb.Message
	snaps       [][]byte
	snapErr     []error
	unreachable map[uint64]int
}

func newRecorder() *recorder { return &recorder{unreachable: map[uint64]int{}} }

func (r *recorder) Receive(m *raftpb.Message) {
	r.mu.Lock()
	r.msgs = append(r.msgs, m)
	r.mu.Unlock()
}

func (r *recorder) ReceiveSnapshot(_ context.Context, m *raftpb.Message, data io.Reader) error {
	b, err := io.ReadAll(data)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		r.snapErr = append(r.snapErr, err)
		return err
	}
	r.snaps = append(r.snaps, b)
	return nil
}

func (r *recorder) ReportUnreachable(id uint64) {
	r.mu.Lock()
	r.unreachable[id]++
	r.mu.Unlock()
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.msgs)
}

func (r *recorder) unreachableCount(id uint64) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.unreachable[id]
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// node is one transport served on a loopback port.
type node struct {
	tr   *Transport
	rec  *recorder
	srv  *http.Server
	addr string
}

func startNode(t *testing.T, id uint64, ln net.Listener) *node {
	t.Helper()
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
	}
	n := &node{tr: New(Config{ID: id, ClusterID: testCluster, RetryInterval: 20 * time.Millisecond}), rec: newRecorder(), addr: ln.Addr().String()}
	n.tr.SetHandler(n.rec)
	mux := http.NewServeMux()
	mux.Handle(DefaultPathPrefix, n.tr.Handler())
	n.srv = &http.Server{Handler: mux}
	go n.srv.Serve(ln)
	t.Cleanup(func() { n.stop() })
	return n
}

func (n *node) stop() {
	n.srv.Close()
	n.tr.Close()
}

func appMsgs(from, to uint64, lo, hi uint64) []*raftpb.Message {
	var out []*raftpb.Message
	for i := lo; i < hi; i++ {
		out = append(out, &raftpb.Message{Type: raftpb.MessageType_MSG_APP, ClusterId: testCluster, From: from, To: to, Index: i,
			Entries: []*raftpb.Entry{{Index: i + 1, Term: 1, Data: make([]byte, 64)}}})
	}
	return out
}

func TestStreamDeliversInOrder(t *testing.T) {
	a, b := startNode(t, 1, nil), startNode(t, 2, nil)
	a.tr.AddPeer(2, b.addr)
	const total = 20000
	for lo := uint64(0); lo < total; lo += 500 {
		a.tr.Send(appMsgs(1, 2, lo, lo+500))
		waitFor(t, "queue to drain", func() bool { return uint64(b.rec.count()) >= lo })
	}
	waitFor(t, "all messages", func() bool { return b.rec.count() == total })
	b.rec.mu.Lock()
	defer b.rec.mu.Unlock()
	for i, m := range b.rec.msgs {
		if m.Index != uint64(i) || m.From != 1 || len(m.Entries) != 1 {
			t.Fatalf("message %d: index %d from %d: order or content lost", i, m.Index, m.From)
		}
	}
}

func TestBothDirectionsAndFullURLAddress(t *testing.T) {
	a, b := startNode(t, 1, nil), startNode(t, 2, nil)
	a.tr.AddPeer(2, "http://"+b.addr+"/raft")
	b.tr.AddPeer(1, a.addr)
	a.tr.Send(appMsgs(1, 2, 0, 3))
	b.tr.Send(appMsgs(2, 1, 0, 4))
	waitFor(t, "a->b", func() bool { return b.rec.count() == 3 })
	waitFor(t, "b->a", func() bool { return a.rec.count() == 4 })
}

func TestPeerDownReportsAndRecovers(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens: the peer is down
	a := startNode(t, 1, nil)
	a.tr.AddPeer(2, addr)
	a.tr.Send(appMsgs(1, 2, 0, 1))
	waitFor(t, "unreachable report", func() bool { return a.rec.unreachableCount(2) > 0 })

	ln, err = net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("port %s taken meanwhile: %v", addr, err)
	}
	b := startNode(t, 2, ln)
	waitFor(t, "delivery after the peer came up", func() bool {
		a.tr.Send(appMsgs(1, 2, 0, 1))
		return b.rec.count() > 0
	})

	// An abrupt server stop cuts the stream: reported, then recovered by a
	// new server on the same port.
	b.srv.Close()
	waitFor(t, "report after the cut", func() bool {
		before := a.rec.unreachableCount(2)
		a.tr.Send(appMsgs(1, 2, 0, 1))
		time.Sleep(5 * time.Millisecond)
		return a.rec.unreachableCount(2) > before
	})
}

func post(t *testing.T, url string, cluster string, body []byte) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if cluster != "" {
		req.Header.Set(HeaderClusterID, cluster)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestBadRequestsAnswered400(t *testing.T) {
	b := startNode(t, 2, nil)
	base := "http://" + b.addr + DefaultPathPrefix
	good, _ := appendFrame(nil, appMsgs(1, 2, 0, 1)[0])
	otherCluster, _ := appendFrame(nil, &raftpb.Message{Type: raftpb.MessageType_MSG_HEARTBEAT, ClusterId: 8, To: 2})
	otherPeer, _ := appendFrame(nil, &raftpb.Message{Type: raftpb.MessageType_MSG_HEARTBEAT, ClusterId: testCluster, To: 3})
	local, _ := appendFrame(nil, &raftpb.Message{Type: raftpb.MessageType_MSG_UNREACHABLE, ClusterId: testCluster, To: 2})
	snapOnStream, _ := appendFrame(nil, &raftpb.Message{Type: raftpb.MessageType_MSG_SNAP, ClusterId: testCluster, To: 2})
	cid := strconv.Itoa(testCluster)
	cases := []struct {
		name, route, cluster string
		body                 []byte
		want                 int
	}{
		{"no cluster header", "stream", "", good, 400},
		{"wrong cluster header", "stream", "8", good, 400},
		{"garbage body", "stream", cid, []byte("\x00\x00\x00\x05hello"), 400},
		{"torn frame", "stream", cid, good[:len(good)-2], 400},
		{"message of another cluster", "stream", cid, otherCluster, 400},
		{"message for another peer", "stream", cid, otherPeer, 400},
		{"local message type", "stream", cid, local, 400},
		{"snapshot on the stream", "stream", cid, snapOnStream, 400},
		{"empty snapshot body", "snapshot", cid, nil, 400},
		{"snapshot without message", "snapshot", cid, mustFrame(t, &raftpb.SnapshotChunk{Last: true}), 400},
		{"unknown route", "other", cid, good, 404},
		{"good stream", "stream", cid, good, 204},
	}
	for _, c := range cases {
		status, body := post(t, base+c.route, c.cluster, c.body)
		if status != c.want {
			t.Errorf("%s: status %d, want %d (%s)", c.name, status, c.want, body)
			continue
		}
		if status >= 400 {
			var e map[string]string
			if err := json.Unmarshal([]byte(body), &e); err != nil || e["error"] == "" {
				t.Errorf("%s: body %q is not a JSON error", c.name, body)
			}
		}
	}
	if got := b.rec.count(); got != 1 {
		t.Fatalf("handler received %d messages, want only the good one", got)
	}
}

func mustFrame(t *testing.T, c *raftpb.SnapshotChunk) []byte {
	b, err := appendFrame(nil, c)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSnapshotTransfer(t *testing.T) {
	a, b := startNode(t, 1, nil), startNode(t, 2, nil)
	a.tr.cfg.ChunkSize = 64 << 10
	a.tr.AddPeer(2, b.addr)
	for _, size := range []int{0, 1, 64 << 10, 3<<20 + 17} {
		data := make([]byte, size)
		rand.Read(data)
		m := &raftpb.Message{Type: raftpb.MessageType_MSG_SNAP, ClusterId: testCluster, From: 1, To: 2, Snapshot: &raftpb.SnapshotMeta{Index: 5, Term: 1}}
		if err := a.tr.SendSnapshot(context.Background(), m, bytes.NewReader(data)); err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		b.rec.mu.Lock()
		got := b.rec.snaps[len(b.rec.snaps)-1]
		b.rec.mu.Unlock()
		if !bytes.Equal(got, data) {
			t.Fatalf("size %d: received %d bytes that differ", size, len(got))
		}
	}
}

func TestTornSnapshotIsNotComplete(t *testing.T) {
	b := startNode(t, 2, nil)
	body := mustFrame(t, &raftpb.SnapshotChunk{Message: &raftpb.Message{Type: raftpb.MessageType_MSG_SNAP, ClusterId: testCluster, To: 2, Snapshot: &raftpb.SnapshotMeta{Index: 3}}, Data: []byte("abc")})
	body = append(body, mustFrame(t, &raftpb.SnapshotChunk{Offset: 3, Data: []byte("def")})...)
	status, _ := post(t, "http://"+b.addr+DefaultPathPrefix+"snapshot", strconv.Itoa(testCluster), body)
	if status != http.StatusBadRequest {
		t.Fatalf("a snapshot body without its last chunk: status %d, want 400", status)
	}
	b.rec.mu.Lock()
	defer b.rec.mu.Unlock()
	if len(b.rec.snaps) != 0 || len(b.rec.snapErr) != 1 || !errors.Is(b.rec.snapErr[0], io.ErrUnexpectedEOF) {
		t.Fatalf("handler saw snaps=%d errs=%v, want one io.ErrUnexpectedEOF", len(b.rec.snaps), b.rec.snapErr)
	}
}

func TestSnapshotToUnknownPeerAndAfterClose(t *testing.T) {
	a := startNode(t, 1, nil)
	m := &raftpb.Message{Type: raftpb.MessageType_MSG_SNAP, To: 9}
	if err := a.tr.SendSnapshot(context.Background(), m, bytes.NewReader(nil)); err == nil {
		t.Fatal("snapshot to an unknown peer succeeded")
	}
	a.tr.Close()
	if err := a.tr.SendSnapshot(context.Background(), m, bytes.NewReader(nil)); !errors.Is(err, ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
	a.tr.Send(appMsgs(1, 9, 0, 1)) // must not panic or block
}

func TestCloseLeaksNothing(t *testing.T) {
	before := runtime.NumGoroutine()
	func() {
		a, b := startNode(t, 1, nil), startNode(t, 2, nil)
		a.tr.AddPeer(2, b.addr)
		b.tr.AddPeer(1, a.addr)
		a.tr.Send(appMsgs(1, 2, 0, 10))
		b.tr.Send(appMsgs(2, 1, 0, 10))
		waitFor(t, "traffic", func() bool { return a.rec.count() == 10 && b.rec.count() == 10 })
		a.stop()
		b.stop()
	}()
	http.DefaultTransport.(*http.Transport).CloseIdleConnections()
	waitFor(t, "goroutines to exit", func() bool { return runtime.NumGoroutine() <= before })
}

func TestUnknownSenderIsLearned(t *testing.T) {
	a, b := startNode(t, 1, nil), startNode(t, 2, nil)
	a.tr.cfg.Addr = a.addr
	a.tr.AddPeer(2, b.addr)
	a.tr.Send(appMsgs(1, 2, 0, 1))
	waitFor(t, "a->b", func() bool { return b.rec.count() == 1 })
	// b was never told about a: it learned a's address from the request.
	b.tr.Send(appMsgs(2, 1, 0, 1))
	waitFor(t, "b->a reply", func() bool { return a.rec.count() == 1 })
}
