package client_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"weedfs.dev/weed/client"
	"weedfs.dev/weed/volume"
)

// A chunk put through a ChunkWriter is stored by a real volume server and
// reads back whole.
func TestChunkWriterPutVolumeServer(t *testing.T) {
	srv := startSyncServer(t, volume.Config{})
	w := client.NewChunkWriter(2)
	defer w.Close()
	data := bytes.Repeat([]byte("chunk data "), 400_000) // 4.4 MB
	r, err := w.Put(context.Background(), srv.addr, "1,0a0000abcd", data, client.UploadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if r.ETag == "" {
		t.Error("no ETag in the reply")
	}
	resp, err := http.Get("http://" + srv.addr + "/1,0a0000abcd")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !bytes.Equal(got, data) {
		t.Fatalf("read back: HTTP %d, %d bytes, want the %d put", resp.StatusCode, len(got), len(data))
	}
}

// putServer is a volume server stand-in that records what it was sent
// and counts the connections it accepted.
type putServer struct {
	hs    *httptest.Server
	conns atomic.Int32
	mu    sync.Mutex
	reqs  []*http.Request
	sizes []int
	reply func(w http.ResponseWriter, r *http.Request) bool // true: replied
}

func newPutServer(t *testing.T) *putServer {
	ps := &putServer{}
	ps.hs = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		ps.mu.Lock()
		ps.reqs = append(ps.reqs, r)
		ps.sizes = append(ps.sizes, len(body))
		reply := ps.reply
		ps.mu.Unlock()
		if reply != nil && reply(w, r) {
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"size":`+strconv.Itoa(len(body))+`,"eTag":"e`+strconv.Itoa(len(body))+`"}`)
	}))
	ps.hs.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			ps.conns.Add(1)
		}
	}
	ps.hs.Start()
	t.Cleanup(ps.hs.Close)
	return ps
}

func (ps *putServer) setReply(f func(w http.ResponseWriter, r *http.Request) bool) {
	ps.mu.Lock()
	ps.reply = f
	ps.mu.Unlock()
}

func (ps *putServer) addr() string { return strings.TrimPrefix(ps.hs.URL, "http://") }

func TestChunkWriterReusesConnections(t *testing.T) {
	ps := newPutServer(t)
	w := client.NewChunkWriter(1)
	defer w.Close()
	ctx := context.Background()
	for i := 1; i <= 3; i++ {
		r, err := w.Put(ctx, ps.addr(), "3,01637037d6", make([]byte, i<<20), client.UploadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if r.Size != int64(i<<20) || r.ETag != "e"+strconv.Itoa(i<<20) {
			t.Fatalf("put %d: reply %+v", i, r)
		}
	}
	if n := ps.conns.Load(); n != 1 {
		t.Errorf("3 puts one after another took %d connections, want 1", n)
	}
	// The server drops its kept-alive connections: the next put notices
	// and goes again on a new one.
	ps.hs.CloseClientConnections()
	if _, err := w.Put(ctx, ps.addr(), "3,01637037d6", []byte("again"), client.UploadOptions{}); err != nil {
		t.Fatalf("put after the server closed the connection: %v", err)
	}
	if n := ps.conns.Load(); n != 2 {
		t.Errorf("%d connections after the server closed one, want 2", n)
	}
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if got := ps.sizes[len(ps.sizes)-1]; got != len("again") {
		t.Errorf("last body %d bytes, want %d", got, len("again"))
	}
}

func TestChunkWriterSendsOptions(t *testing.T) {
	ps := newPutServer(t)
	w := client.NewChunkWriter(1)
	defer w.Close()
	_, err := w.Put(context.Background(), ps.addr(), "3,01637037d6", []byte("x"),
		client.UploadOptions{JWT: "tok", Fsync: true, TTL: "3m", Timestamp: 42})
	if err != nil {
		t.Fatal(err)
	}
	ps.mu.Lock()
	r := ps.reqs[0]
	ps.mu.Unlock()
	q := r.URL.Query()
	if r.Method != http.MethodPut || r.URL.Path != "/3,01637037d6" || q.Get("fsync") != "true" ||
		q.Get("ttl") != "3m" || q.Get("ts") != "42" || r.Header.Get("Authorization") != "Bearer tok" {
		t.Errorf("sent %s %s with Authorization %q", r.Method, r.URL, r.Header.Get("Authorization"))
	}
	if _, err := w.Put(context.Background(), ps.addr(), "3,01637037d6", nil, client.UploadOptions{Name: "a"}); !errors.Is(err, client.ErrUnsupportedUpload) {
		t.Errorf("multipart-only option: %v, want ErrUnsupportedUpload", err)
	}
}

// A refusal is the caller's answer, not a broken connection: it is not
// sent again.
func TestChunkWriterErrorReply(t *testing.T) {
	ps := newPutServer(t)
	ps.setReply(func(w http.ResponseWriter, r *http.Request) bool {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusInternalServerError)
		io.WriteString(w, `{"error":"disk full"}`)
		return true
	})
	w := client.NewChunkWriter(1)
	defer w.Close()
	_, err := w.Put(context.Background(), ps.addr(), "3,01637037d6", []byte("x"), client.UploadOptions{})
	if client.StatusCode(err) != http.StatusInternalServerError || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("error %v, want HTTP 500 disk full", err)
	}
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if len(ps.reqs) != 1 {
		t.Errorf("%d requests, want 1 (no retry of a refusal)", len(ps.reqs))
	}
}

func TestChunkWriterCancel(t *testing.T) {
	ps := newPutServer(t)
	release := make(chan struct{})
	ps.setReply(func(w http.ResponseWriter, r *http.Request) bool {
		<-release
		return false
	})
	defer close(release)
	w := client.NewChunkWriter(1)
	defer w.Close()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := w.Put(ctx, ps.addr(), "3,01637037d6", []byte("x"), client.UploadOptions{})
		errc <- err
	}()
	// Cancel once the server holds the request.
	for {
		ps.mu.Lock()
		n := len(ps.reqs)
		ps.mu.Unlock()
		if n > 0 {
			break
		}
		runtime.Gosched()
	}
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("put with its context cancelled: %v, want context.Canceled", err)
	}
}
