package volume_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"weedfs.dev/weed/client"
	"weedfs.dev/weed/master"
	"weedfs.dev/weed/raft"
	"weedfs.dev/weed/storage"
	"weedfs.dev/weed/storage/vfs"
	"weedfs.dev/weed/volume"
)

const pulse = 150 * time.Millisecond

func listen(t *testing.T) (net.Listener, int) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln, ln.Addr().(*net.TCPAddr).Port
}

// startMaster runs a one-node master in memory on a loopback port.
func startMaster(t *testing.T) string {
	t.Helper()
	ln, port := listen(t)
	rc := raft.DefaultConfig()
	rc.TickInterval = 20 * time.Millisecond
	rc.ElectionTicks, rc.HeartbeatTicks = 10, 2
	m, err := master.New(master.Config{IP: "127.0.0.1", Port: port, Pulse: pulse, Raft: &rc, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	srv := &http.Server{Handler: m.Handler()}
	go srv.Serve(ln)
	done := make(chan struct{})
	go func() { m.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); srv.Close(); m.Close(); <-done })
	deadline := time.Now().Add(5 * time.Second)
	for !m.IsLeader() {
		if time.Now().After(deadline) {
			t.Fatal("master did not become leader")
		}
		time.Sleep(10 * time.Millisecond)
	}
	return m.Addr()
}

// replica is a volume server whose HTTP side can be cut off.
type replica struct {
	addr  string
	srv   *http.Server
	store *storage.Store
}

func startVolume(t *testing.T, masterAddr, rack string) *replica {
	t.Helper()
	return startVolumeMode(t, masterAddr, rack, "")
}

func startVolumeMode(t *testing.T, masterAddr, rack, readMode string) *replica {
	t.Helper()
	store, err := storage.OpenStore(context.Background(), vfs.Default(), []storage.DiskLocation{{Dir: t.TempDir(), MaxVolumes: 8}},
		slog.New(slog.DiscardHandler), storage.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ln, port := listen(t)
	vs := volume.New(volume.Config{IP: "127.0.0.1", Port: port, Masters: []string{masterAddr}, Rack: rack,
		HeartbeatInterval: pulse, Version: "test", ReadMode: readMode}, store)
	srv := &http.Server{Handler: vs.Handler()}
	go srv.Serve(ln)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { vs.RunHeartbeats(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done; srv.Close(); vs.Stop(); store.Close() })
	return &replica{addr: "127.0.0.1:" + strconv.Itoa(port), srv: srv, store: store}
}

func get(t *testing.T, server, fid string) (int, []byte) {
	t.Helper()
	resp, err := http.Get("http://" + server + "/" + fid)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// assignWhenReady retries while the master grows the first volumes (503).
func assignWhenReady(t *testing.T, c *client.Client, o client.AssignOptions) *client.Assignment {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		a, err := c.Assign(context.Background(), o)
		if err == nil {
			return a
		}
		if time.Now().After(deadline) {
			t.Fatalf("assign: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestReplication001 writes, reads and deletes on a volume with two copies
// in one rack, then shows what a write does when a replica is down: the
// client gets 500 and must retry; the copy that was written stays (it is
// harmless: nobody holds an acknowledged fid for it) and a retry after the
// replica returns completes the write on both, because an identical
// re-upload is idempotent on the copy that already has it.
func TestReplication001(t *testing.T) {
	m := startMaster(t)
	a, b := startVolume(t, m, "r1"), startVolume(t, m, "r1")
	c := client.New([]string{m}, client.Options{})
	ctx := context.Background()

	asg := assignWhenReady(t, c, client.AssignOptions{Replication: "001"})
	data := []byte("two copies of this, please")
	if _, err := c.Upload(ctx, asg.URL, asg.Fid, data, client.UploadOptions{Name: "r.txt"}); err != nil {
		t.Fatal(err)
	}
	for _, s := range []*replica{a, b} {
		if code, body := get(t, s.addr, asg.Fid); code != 200 || !bytes.Equal(body, data) {
			t.Fatalf("read from %s: %d %q", s.addr, code, body)
		}
	}
	if err := c.Delete(ctx, asg.Fid, ""); err != nil {
		t.Fatal(err)
	}
	for _, s := range []*replica{a, b} {
		if code, _ := get(t, s.addr, asg.Fid); code != 404 {
			t.Fatalf("after delete, %s answers %d", s.addr, code)
		}
	}

	// A replica that is down makes the write fail.
	asg = assignWhenReady(t, c, client.AssignOptions{Replication: "001"})
	primary, other := a, b
	if asg.URL == b.addr {
		primary, other = b, a
	}
	other.srv.Close()
	_, err := c.Upload(ctx, asg.URL, asg.Fid, data, client.UploadOptions{Name: "r.txt"})
	if client.StatusCode(err) != http.StatusInternalServerError {
		t.Fatalf("write with a replica down: %v, want HTTP 500", err)
	}
	if code, _ := get(t, primary.addr, asg.Fid); code != 200 {
		t.Fatalf("the primary's copy: %d (kept, as documented)", code)
	}
	// Bring the replica back on its address; the retry completes the write.
	ln, err := net.Listen("tcp", other.addr)
	if err != nil {
		t.Fatalf("could not rebind %s: %v", other.addr, err)
	}
	srv := &http.Server{Handler: volume.New(volume.Config{IP: "127.0.0.1", Version: "test"}, other.store).Handler()}
	go srv.Serve(ln)
	defer srv.Close()
	res, err := c.Upload(ctx, asg.URL, asg.Fid, data, client.UploadOptions{Name: "r.txt"})
	if err != nil {
		t.Fatalf("retry: %v", err)
	}
	if !res.Unchanged {
		t.Errorf("retry re-appended on the primary instead of reporting it unchanged")
	}
	if code, body := get(t, other.addr, asg.Fid); code != 200 || !bytes.Equal(body, data) {
		t.Fatalf("replica after retry: %d %q", code, body)
	}
}

// TestReadModes reads a blob through servers that do not hold its volume:
// proxy serves it, redirect answers 301 to a holder, local answers 404,
// and a request already proxied is never sent on again.
func TestReadModes(t *testing.T) {
	m := startMaster(t)
	// The holder is the only server when the blob is written, so the
	// assign lands on it whatever order heartbeats arrive in (with all
	// four up, the master may grow every volume before the holder's first
	// heartbeat).
	holder := startVolumeMode(t, m, "r1", volume.ReadModeProxy)
	c := client.New([]string{m}, client.Options{})
	asg := assignWhenReady(t, c, client.AssignOptions{})
	if asg.URL != holder.addr {
		t.Fatalf("assign landed on %s, the only server is %s", asg.URL, holder.addr)
	}
	data := []byte("read from wherever you are")
	if _, err := c.Upload(context.Background(), asg.URL, asg.Fid, data, client.UploadOptions{Name: "w.txt"}); err != nil {
		t.Fatal(err)
	}
	proxy := startVolumeMode(t, m, "r1", volume.ReadModeProxy)
	redirect := startVolumeMode(t, m, "r1", volume.ReadModeRedirect)
	local := startVolumeMode(t, m, "r1", volume.ReadModeLocal)
	if code, body := get(t, proxy.addr, asg.Fid); code != 200 || !bytes.Equal(body, data) {
		t.Fatalf("proxy mode: %d %q", code, body)
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get("http://" + redirect.addr + "/" + asg.Fid)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusMovedPermanently ||
		!strings.HasPrefix(loc, "http://"+holder.addr+"/"+asg.Fid) || !strings.Contains(loc, "proxied=true") {
		t.Fatalf("redirect mode: %d %q", resp.StatusCode, loc)
	}
	if code, _ := get(t, local.addr, asg.Fid); code != 404 {
		t.Fatalf("local mode: %d", code)
	}
	if code, _ := get(t, proxy.addr, asg.Fid+"?proxied=true"); code != 404 {
		t.Fatalf("an already proxied read was sent on: %d", code)
	}
}
