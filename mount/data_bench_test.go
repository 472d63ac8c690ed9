package mount_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"weedfs.dev/weed/filer"
	"weedfs.dev/weed/filer/filertest"
	"weedfs.dev/weed/filer/server"
	"weedfs.dev/weed/filer/stores/embedded"
	"weedfs.dev/weed/mount"
)

// benchFileMiB is the size of the file each benchmark op writes or reads.
const benchFileMiB = 64

// startBenchFiler serves a filer over a real cluster for a benchmark
// (filerEnv is the tests' version, tied to *testing.T) and returns the
// options of a mount of it at a new folder.
func startBenchFiler(b *testing.B) mount.Options {
	cluster := filertest.Start(b, 1, 32)
	store, err := embedded.Open(b.TempDir(), filertest.Logger())
	if err != nil {
		b.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	f := filer.New(store, cluster.Client, filer.Options{ID: ln.Addr().String(), Logger: filertest.Logger()})
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan struct{})
	go func() { f.Run(ctx); close(ran) }()
	s := server.New(server.Config{Filer: f, Logger: filertest.Logger()})
	hs := &http.Server{Handler: s.Handler()}
	go hs.Serve(ln)
	b.Cleanup(func() {
		s.Close()
		hs.Close()
		cancel()
		<-ran
		f.Close()
		store.Close()
	})
	return mount.Options{Filer: ln.Addr().String(), Masters: []string{cluster.Master}, Dir: b.TempDir(),
		OpTimeout: 5 * time.Second, Logger: filertest.Logger()}
}

func startBenchMount(b *testing.B, o mount.Options) *mount.Mount {
	m, err := mount.Start(context.Background(), o)
	if err != nil {
		b.Fatal(err)
	}
	return m
}

// writeFsync writes benchFileMiB MiB in 1 MiB writes and fsyncs, as
// dd bs=1M conv=fsync.
func writeFsync(b *testing.B, name string) {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 1<<20)
	for i := range buf {
		buf[i] = byte(i * 7)
	}
	for range benchFileMiB {
		if _, err := f.Write(buf); err != nil {
			b.Fatal(err)
		}
	}
	if err := f.Sync(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkWriteFsync: a 64 MiB file written in 1 MiB writes and
// fsynced (chunks uploaded and their volumes synced, entry saved).
func BenchmarkWriteFsync(b *testing.B) {
	requireFUSEBench(b)
	o := startBenchFiler(b)
	m := startBenchMount(b, o)
	defer m.Unmount()
	b.SetBytes(benchFileMiB << 20)
	b.ResetTimer()
	for i := range b.N {
		writeFsync(b, filepath.Join(o.Dir, "w"+string(rune('a'+i%26))))
	}
}

// BenchmarkFirstRead: a 64 MiB file read in 1 MiB reads from a mount
// made just before (its caches and the kernel's page cache of it cold).
func BenchmarkFirstRead(b *testing.B) {
	requireFUSEBench(b)
	o := startBenchFiler(b)
	m := startBenchMount(b, o)
	writeFsync(b, filepath.Join(o.Dir, "r"))
	if err := m.Unmount(); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(benchFileMiB << 20)
	buf := make([]byte, 1<<20)
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		m := startBenchMount(b, o)
		b.StartTimer()
		f, err := os.Open(filepath.Join(o.Dir, "r"))
		if err != nil {
			b.Fatal(err)
		}
		n, err := io.CopyBuffer(io.Discard, struct{ io.Reader }{f}, buf)
		f.Close()
		if err != nil || n != benchFileMiB<<20 {
			b.Fatalf("read %d bytes, %v", n, err)
		}
		b.StopTimer()
		if err := m.Unmount(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}

func requireFUSEBench(b *testing.B) {
	if _, err := os.Stat("/dev/fuse"); err != nil {
		b.Skip("no /dev/fuse")
	}
}
