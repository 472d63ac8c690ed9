package master

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"weedfs.dev/weed/client"
	"weedfs.dev/weed/raft"
	"weedfs.dev/weed/storage"
	"weedfs.dev/weed/storage/vfs"
	"weedfs.dev/weed/volume"
)

// testPulse is the heartbeat interval of test clusters: short, so a new
// leader's warm-up and dead-node expiry take a fraction of a second.
const testPulse = 150 * time.Millisecond

func testLogger() *slog.Logger {
	if os.Getenv("WEED_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// testRaft is quick Raft timing for loopback tests: elections in 200-400 ms.
func testRaft() *raft.Config {
	rc := raft.DefaultConfig()
	rc.TickInterval = 20 * time.Millisecond
	rc.ElectionTicks = 10
	rc.HeartbeatTicks = 2
	return &rc
}

// listener binds a free loopback port.
func listener(t testing.TB) (net.Listener, int) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln, ln.Addr().(*net.TCPAddr).Port
}

// testMaster is a master served on a loopback port.
type testMaster struct {
	*Server
	addr   string
	srv    *http.Server
	cancel context.CancelFunc
	done   chan struct{}
	closed bool
}

// startMaster starts a master on ln with cfg (IP, Port, Logger, Raft and
// Pulse filled in when unset).
func startMaster(t testing.TB, ln net.Listener, cfg Config) *testMaster {
	t.Helper()
	cfg.IP = "127.0.0.1"
	cfg.Port = ln.Addr().(*net.TCPAddr).Port
	if cfg.Logger == nil {
		cfg.Logger = testLogger().With("master", cfg.Port)
	}
	if cfg.Raft == nil {
		cfg.Raft = testRaft()
	}
	if cfg.Pulse == 0 {
		cfg.Pulse = testPulse
	}
	s, err := New(cfg)
	if err != nil {
		ln.Close()
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	m := &testMaster{Server: s, addr: s.Addr(), cancel: cancel, done: make(chan struct{})}
	m.srv = &http.Server{Handler: s.Handler()}
	go m.srv.Serve(ln)
	go func() { s.Run(ctx); close(m.done) }()
	t.Cleanup(m.stop)
	return m
}

// stop closes the master and its HTTP server (idempotent).
func (m *testMaster) stop() {
	if m.closed {
		return
	}
	m.closed = true
	m.cancel()
	m.srv.Close()
	m.Server.Close()
	<-m.done
}

// oneMaster starts a single master (a one-node Raft group in memory) and
// waits until it leads.
func oneMaster(t testing.TB, cfg Config) *testMaster {
	t.Helper()
	ln, _ := listener(t)
	m := startMaster(t, ln, cfg)
	waitFor(t, 5*time.Second, "master to lead", m.IsLeader)
	return m
}

// testVolume is a volume server on a loopback port over a real store.
type testVolume struct {
	*volume.Server
	store  *storage.Store
	addr   string
	srv    *http.Server
	cancel context.CancelFunc
	done   chan struct{}
	closed bool
}

func startVolume(t testing.TB, masters []string, dir string, maxVolumes int, dc, rack string) *testVolume {
	t.Helper()
	store, err := storage.OpenStore(context.Background(), vfs.Default(), []storage.DiskLocation{{Dir: dir, MaxVolumes: maxVolumes}},
		slog.New(slog.DiscardHandler), storage.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ln, port := listener(t)
	vs := volume.New(volume.Config{
		IP: "127.0.0.1", Port: port, Masters: masters, DataCenter: dc, Rack: rack,
		HeartbeatInterval: testPulse, Version: "test",
	}, store)
	ctx, cancel := context.WithCancel(context.Background())
	v := &testVolume{Server: vs, store: store, addr: "127.0.0.1:" + strconv.Itoa(port), cancel: cancel, done: make(chan struct{})}
	v.srv = &http.Server{Handler: vs.Handler()}
	go v.srv.Serve(ln)
	go func() { vs.RunHeartbeats(ctx); close(v.done) }()
	t.Cleanup(v.stop)
	return v
}

func (v *testVolume) stop() {
	if v.closed {
		return
	}
	v.closed = true
	v.cancel()
	<-v.done
	v.srv.Close()
	v.Server.Stop()
	v.store.Close()
}

// waitFor polls cond every 10 ms until it holds or d passes.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitNodes waits until the master's topology lists n live volume servers
// and its warm-up is over, so assigns may grow volumes.
func waitNodes(t testing.TB, m *testMaster, n int) {
	t.Helper()
	waitFor(t, 10*time.Second, strconv.Itoa(n)+" volume servers", func() bool {
		alive := 0
		for _, nd := range m.Topology().Nodes() {
			if nd.Alive {
				alive++
			}
		}
		v := m.view.Load()
		return alive >= n && v.ready && time.Since(v.since) > m.cfg.Pulse
	})
}

var httpClient = &http.Client{
	Transport:     &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true},
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// call does one request and returns the response with its body read.
func call(t testing.TB, method, u string, body io.Reader, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func get(t testing.TB, addr, path string, q url.Values) (*http.Response, []byte) {
	t.Helper()
	u := "http://" + addr + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return call(t, http.MethodGet, u, nil, nil)
}

// decode unmarshals a JSON body or fails.
func decode[T any](t testing.TB, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("bad JSON %q: %v", b, err)
	}
	return v
}

// wantError checks status, a JSON {"error"} body containing substr, and
// Retry-After on 503s.
func wantError(t testing.TB, resp *http.Response, body []byte, status int, substr string) {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("status %d, want %d; body %s", resp.StatusCode, status, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type %q, want application/json", ct)
	}
	e := decode[struct {
		Error string `json:"error"`
	}](t, body)
	if !strings.Contains(e.Error, substr) {
		t.Fatalf("error %q does not contain %q", e.Error, substr)
	}
	if status == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") == "" {
		t.Fatalf("503 without Retry-After")
	}
}

// assignOK asserts a successful assign and returns it.
func assignOK(t testing.TB, addr string, q url.Values) client.Assignment {
	t.Helper()
	resp, b := get(t, addr, "/dir/assign", q)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("assign %v: status %d: %s", q, resp.StatusCode, b)
	}
	a := decode[client.Assignment](t, b)
	a.Auth = strings.TrimPrefix(resp.Header.Get("Authorization"), "Bearer ")
	return a
}

func testingProcs() int { return runtime.GOMAXPROCS(0) }
