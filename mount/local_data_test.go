package mount

import (
	"bytes"
	"context"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"weedfs.dev/weed/client"
	"weedfs.dev/weed/client/localput"
	"weedfs.dev/weed/master"
	"weedfs.dev/weed/raft"
	"weedfs.dev/weed/storage"
	"weedfs.dev/weed/storage/vfs"
	"weedfs.dev/weed/volume"
)

// startLocalCluster runs a master and a volume server serving same-host
// uploads in this process until the test ends; it returns the master's
// address once the master assigns.
func startLocalCluster(t *testing.T) string {
	t.Helper()
	log := slog.New(slog.DiscardHandler)
	listen := func() (net.Listener, int) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		return ln, ln.Addr().(*net.TCPAddr).Port
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	mln, mport := listen()
	rc := raft.DefaultConfig()
	rc.TickInterval, rc.ElectionTicks, rc.HeartbeatTicks = 20*time.Millisecond, 10, 2
	pulse := 150 * time.Millisecond
	m, err := master.New(master.Config{IP: "127.0.0.1", Port: mport, Raft: &rc, Pulse: pulse, VolumeSizeLimitMB: 1024, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	mhs := &http.Server{Handler: m.Handler()}
	go mhs.Serve(mln)
	mdone := make(chan struct{})
	go func() { m.Run(ctx); close(mdone) }()
	t.Cleanup(func() { cancel(); mhs.Close(); m.Close(); <-mdone })

	dir := t.TempDir()
	store, err := storage.OpenStore(ctx, vfs.Default(), []storage.DiskLocation{{Dir: dir, MaxVolumes: 4}}, log, storage.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	vln, vport := listen()
	vs := volume.New(volume.Config{IP: "127.0.0.1", Port: vport, Masters: []string{m.Addr()}, HeartbeatInterval: pulse, Logger: log}, store)
	vhs := &http.Server{Handler: vs.Handler()}
	go vhs.Serve(vln)
	vdone := make(chan struct{}, 2)
	go func() { vs.RunHeartbeats(ctx); vdone <- struct{}{} }()
	go func() { vs.ServeLocal(ctx, filepath.Join(dir, "v.sock")); vdone <- struct{}{} }()
	t.Cleanup(func() {
		cancel()
		<-vdone
		<-vdone
		vhs.Close()
		vs.Stop()
		store.Close()
	})

	c := client.New([]string{m.Addr()}, client.Options{})
	for deadline := time.Now().Add(20 * time.Second); ; {
		actx, acancel := context.WithTimeout(ctx, 2*time.Second)
		_, err := c.Assign(actx, client.AssignOptions{})
		acancel()
		if err == nil {
			return m.Addr()
		}
		if time.Now().After(deadline) {
			t.Fatalf("master does not assign: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// The mount's chunk uploads to a volume server on this host go through
// its shared-memory socket, from the write buffers themselves, and read
// back as written.
func TestUploadsThroughSharedMemory(t *testing.T) {
	if !localput.Supported {
		t.Skip("same-host uploads need Linux")
	}
	maddr := startLocalCluster(t)
	const chunk = 1 << 20
	fsys := &FS{
		opt:    Options{ChunkSize: chunk, IOTimeout: 10 * time.Second},
		log:    slog.New(slog.DiscardHandler),
		blobs:  client.New([]string{maddr}, client.Options{}),
		chunkw: client.NewChunkWriter(2),
		bufs:   newBufferPool(chunk, 2),
		ctx:    context.Background(),
	}
	defer fsys.chunkw.Close()
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 3; i++ {
		b, _ := fsys.bufs.tryGet()
		data := b[:chunk-i*1000]
		for j := range data {
			data[j] = byte(rng.Uint32())
		}
		want := bytes.Clone(data)
		c, err := fsys.uploadOnce(data, "", "")
		if err != nil {
			t.Fatal(err)
		}
		fsys.bufs.put(b)
		if got := fsys.chunkw.LocalPuts(); got != uint64(i+1) {
			t.Fatalf("after %d uploads, %d went through the socket", i+1, got)
		}
		got, _, err := fsys.blobs.Read(context.Background(), c.Fid, client.ReadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) || c.Size != uint64(len(want)) {
			t.Fatalf("chunk %s: %d bytes read back, %d written (size %d)", c.Fid, len(got), len(want), c.Size)
		}
	}
}
