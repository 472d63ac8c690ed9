// Package filertest runs what the filer's tests stand on: a real master
// and real volume servers on loopback ports over volumes in temporary
// folders, in the test's process. It is imported only by tests.
package filertest

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"testing"
	"time"

	"weedfs.dev/weed/client"
	"weedfs.dev/weed/master"
	"weedfs.dev/weed/raft"
	"weedfs.dev/weed/security"
	"weedfs.dev/weed/storage"
	"weedfs.dev/weed/storage/vfs"
	"weedfs.dev/weed/volume"
)

// Cluster is one master and some volume servers.
type Cluster struct {
	Master  string   // host:port
	Volumes []string // host:port of each volume server
	Client  *client.Client
	stores  []*storage.Store
}

// Logger is a discarding logger, or a debug one on stderr when
// WEED_TEST_LOG is set.
func Logger() *slog.Logger {
	if os.Getenv("WEED_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

func listen(t testing.TB) (net.Listener, int) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln, ln.Addr().(*net.TCPAddr).Port
}

// Start runs a master and n volume servers (each with up to maxVolumes
// volumes) until the test ends, and waits until the master assigns.
func Start(t testing.TB, n, maxVolumes int) *Cluster {
	t.Helper()
	return StartSecure(t, n, maxVolumes, security.Config{})
}

// StartSecure is Start with the master and volume servers checking
// tokens with sec's keys, as security.toml would have them do.
func StartSecure(t testing.TB, n, maxVolumes int, sec security.Config) *Cluster {
	t.Helper()
	pulse := 150 * time.Millisecond
	ln, port := listen(t)
	rc := raft.DefaultConfig()
	rc.TickInterval = 20 * time.Millisecond
	rc.ElectionTicks = 10
	rc.HeartbeatTicks = 2
	m, err := master.New(master.Config{IP: "127.0.0.1", Port: port, Raft: &rc, Pulse: pulse,
		VolumeSizeLimitMB: 1024, Security: sec, Logger: Logger().With("master", port)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	msrv := &http.Server{Handler: m.Handler()}
	go msrv.Serve(ln)
	mdone := make(chan struct{})
	go func() { m.Run(ctx); close(mdone) }()
	t.Cleanup(func() {
		cancel()
		msrv.Close()
		m.Close()
		<-mdone
	})
	c := &Cluster{Master: m.Addr()}
	for range n {
		c.startVolume(t, maxVolumes, pulse, sec)
	}
	c.Client = client.New([]string{c.Master}, client.Options{})
	deadline := time.Now().Add(20 * time.Second)
	for {
		actx, acancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err := c.Client.Assign(actx, client.AssignOptions{})
		acancel()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("master %s does not assign: %v", c.Master, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return c
}

func (c *Cluster) startVolume(t testing.TB, maxVolumes int, pulse time.Duration, sec security.Config) {
	t.Helper()
	store, err := storage.OpenStore(context.Background(), vfs.Default(),
		[]storage.DiskLocation{{Dir: t.TempDir(), MaxVolumes: maxVolumes}}, Logger(), storage.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ln, port := listen(t)
	vs := volume.New(volume.Config{IP: "127.0.0.1", Port: port, Masters: []string{c.Master},
		HeartbeatInterval: pulse, Version: "test", FileSizeLimit: 1 << 30, Security: sec, Logger: Logger()}, store)
	ctx, cancel := context.WithCancel(context.Background())
	srv := &http.Server{Handler: vs.Handler()}
	go srv.Serve(ln)
	done := make(chan struct{})
	go func() { vs.RunHeartbeats(ctx); close(done) }()
	t.Cleanup(func() {
		cancel()
		<-done
		srv.Close()
		vs.Stop()
		store.Close()
	})
	c.Volumes = append(c.Volumes, "127.0.0.1:"+strconv.Itoa(port))
	c.stores = append(c.stores, store)
}

// BlobExists reports whether fid can be read from the cluster now.
func (c *Cluster) BlobExists(t testing.TB, fid string) bool {
	t.Helper()
	_, _, err := c.Client.Read(context.Background(), fid, client.ReadOptions{})
	if err == nil {
		return true
	}
	if client.StatusCode(err) == http.StatusNotFound || errors.Is(err, client.ErrNotFound) {
		return false
	}
	t.Fatalf("read %s: %v", fid, err)
	return false
}
