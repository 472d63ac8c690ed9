package client_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"weedfs.dev/weed/client"
	"weedfs.dev/weed/security"
	"weedfs.dev/weed/storage"
	"weedfs.dev/weed/storage/needle"
	"weedfs.dev/weed/storage/superblock"
	"weedfs.dev/weed/storage/vfs"
	"weedfs.dev/weed/volume"
)

// syncServer is a real volume server over a store on a crash-simulating
// file system, so a test can see what a power loss would keep.
type syncServer struct {
	fs    *vfs.CrashFS
	store *storage.Store
	addr  string
}

func startSyncServer(t *testing.T, cfg volume.Config) *syncServer {
	t.Helper()
	fs := vfs.NewCrashFS()
	store, err := storage.OpenStore(context.Background(), fs, []storage.DiskLocation{{Dir: "/data", MaxVolumes: 8}},
		slog.New(slog.DiscardHandler), storage.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []uint32{1, 2} {
		if _, err := store.AllocateVolume("", id, superblock.ReplicaPlacement{}, needle.TTL{}); err != nil {
			t.Fatal(err)
		}
	}
	cfg.IP, cfg.Version = "127.0.0.1", "test"
	srv := volume.New(cfg, store)
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		hs.Close()
		srv.Stop()
		store.Close()
	})
	return &syncServer{fs: fs, store: store, addr: strings.TrimPrefix(hs.URL, "http://")}
}

// survives reports whether fid's bytes are readable after a power loss now.
func (s *syncServer) survives(t *testing.T, vid uint32, key uint64, cookie uint32, want []byte) bool {
	t.Helper()
	after := s.fs.Crash(vfs.DropUnsynced)
	store, err := storage.OpenStore(context.Background(), after, []storage.DiskLocation{{Dir: "/data", MaxVolumes: 8}},
		slog.New(slog.DiscardHandler), storage.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	n, err := store.Read(context.Background(), vid, key, cookie, storage.ReadOptions{})
	if err != nil {
		return false
	}
	return bytes.Equal(n.Data, want)
}

func TestSyncVolumesMakesWritesDurable(t *testing.T) {
	srv := startSyncServer(t, volume.Config{})
	c := client.New(nil, client.Options{})
	ctx := context.Background()
	data := bytes.Repeat([]byte("durable "), 1000)
	// fid 1,0a0000abcd: volume 1, key 0x0a, cookie 0xabcd.
	if _, err := c.Upload(ctx, srv.addr, "1,0a0000abcd", data, client.UploadOptions{Raw: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Upload(ctx, srv.addr, "2,0b0000abcd", data, client.UploadOptions{Raw: true}); err != nil {
		t.Fatal(err)
	}
	// Without fsync the write is acknowledged but not yet durable: this is
	// what makes the test able to fail.
	if srv.survives(t, 1, 0x0a, 0xabcd, data) {
		t.Fatal("write without fsync survived a power loss: the test cannot tell a sync happened")
	}
	if err := c.SyncVolumes(ctx, srv.addr, []uint32{1, 1}); err != nil {
		t.Fatal(err)
	}
	if !srv.survives(t, 1, 0x0a, 0xabcd, data) {
		t.Fatal("write lost after SyncVolumes")
	}
	if srv.survives(t, 2, 0x0b, 0xabcd, data) {
		t.Fatal("volume 2 was synced though not asked for")
	}
	if err := c.SyncVolumes(ctx, "http://"+srv.addr+"/", []uint32{2}); err != nil {
		t.Fatal(err)
	}
	if !srv.survives(t, 2, 0x0b, 0xabcd, data) {
		t.Fatal("volume 2 write lost after SyncVolumes with a URL")
	}
	if err := c.SyncVolumes(ctx, srv.addr, nil); err != nil {
		t.Fatalf("no ids: %v", err)
	}
}

func TestSyncVolumesUnknownVolume(t *testing.T) {
	srv := startSyncServer(t, volume.Config{})
	c := client.New(nil, client.Options{})
	data := []byte("not synced")
	if _, err := c.Upload(context.Background(), srv.addr, "1,0a0000abcd", data, client.UploadOptions{Raw: true}); err != nil {
		t.Fatal(err)
	}
	err := c.SyncVolumes(context.Background(), srv.addr, []uint32{1, 77})
	if !errors.Is(err, client.ErrNotFound) || client.StatusCode(err) != 404 {
		t.Fatalf("unknown volume: got %v, want a 404 ErrNotFound", err)
	}
	if !strings.Contains(err.Error(), "77") {
		t.Errorf("error %q does not name the unknown volume", err)
	}
	if srv.survives(t, 1, 0x0a, 0xabcd, data) {
		t.Error("a call naming an unknown volume synced the known one")
	}
}

func TestSyncVolumesWhiteList(t *testing.T) {
	wl, err := security.ParseWhiteList("10.9.9.9")
	if err != nil {
		t.Fatal(err)
	}
	srv := startSyncServer(t, volume.Config{WhiteList: wl})
	c := client.New(nil, client.Options{})
	err = c.SyncVolumes(context.Background(), srv.addr, []uint32{1})
	if !errors.Is(err, client.ErrForbidden) {
		t.Fatalf("caller outside the white list: got %v, want ErrForbidden", err)
	}
}
