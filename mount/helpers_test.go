package mount_test

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"weedfs.dev/weed/filer"
	"weedfs.dev/weed/filer/filertest"
	"weedfs.dev/weed/filer/server"
	"weedfs.dev/weed/filer/stores/embedded"
	"weedfs.dev/weed/mount"
)

// requireFUSE skips (or, under CI, fails) when FUSE cannot be used here.
func requireFUSE(t *testing.T) {
	t.Helper()
	why := ""
	if _, err := os.Stat("/dev/fuse"); err != nil {
		why = "no /dev/fuse"
	} else if _, err := exec.LookPath("fusermount3"); err != nil {
		if _, err := exec.LookPath("fusermount"); err != nil {
			why = "no fusermount3 (apt-get install fuse3)"
		}
	}
	if why == "" {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("FUSE unavailable under CI: %s", why)
	}
	t.Skip("FUSE unavailable: " + why)
}

// filerEnv is a real cluster and a filer over the embedded store, served
// on a loopback port that survives a restart of the filer.
type filerEnv struct {
	t        *testing.T
	cluster  *filertest.Cluster
	addr     string
	storeDir string
	stop     func()
	// manifestBatch overrides the filer's ManifestBatch when not 0.
	manifestBatch int
}

func newFilerEnv(t *testing.T) *filerEnv {
	t.Helper()
	return newFilerEnvWith(t, 0)
}

// newFilerEnvWith is newFilerEnv with the filer's ManifestBatch set.
func newFilerEnvWith(t *testing.T, manifestBatch int) *filerEnv {
	t.Helper()
	fe := &filerEnv{t: t, cluster: filertest.Start(t, 1, 32), storeDir: t.TempDir(), manifestBatch: manifestBatch}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fe.addr = ln.Addr().String()
	fe.serve(ln)
	t.Cleanup(func() { fe.stopFiler() })
	return fe
}

func (fe *filerEnv) serve(ln net.Listener) {
	store, err := embedded.Open(fe.storeDir, filertest.Logger())
	if err != nil {
		fe.t.Fatal(err)
	}
	f := filer.New(store, fe.cluster.Client, filer.Options{ID: fe.addr, DeleteRetry: 50 * time.Millisecond,
		ManifestBatch: fe.manifestBatch, Logger: filertest.Logger()})
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan struct{})
	go func() { f.Run(ctx); close(ran) }()
	s := server.New(server.Config{Filer: f, Logger: filertest.Logger()})
	hs := &http.Server{Handler: s.Handler()}
	go hs.Serve(ln)
	fe.stop = func() {
		s.Close()
		hs.Close()
		cancel()
		<-ran
		f.Close()
		store.Close()
	}
}

func (fe *filerEnv) stopFiler() {
	if fe.stop != nil {
		fe.stop()
		fe.stop = nil
	}
}

// restartFiler serves the same store on the same port again.
func (fe *filerEnv) restartFiler() {
	fe.t.Helper()
	var ln net.Listener
	var err error
	for i := 0; i < 100; i++ {
		if ln, err = net.Listen("tcp", fe.addr); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		fe.t.Fatal(err)
	}
	fe.serve(ln)
}

func (fe *filerEnv) options(dir string) mount.Options {
	return mount.Options{
		Filer: fe.addr, Masters: []string{fe.cluster.Master}, Dir: dir,
		OpTimeout: 2 * time.Second, Logger: filertest.Logger(),
	}
}

// mountAt mounts the filer at a new temp folder until the test ends.
func (fe *filerEnv) mountAt(t *testing.T, o mount.Options) *mount.Mount {
	t.Helper()
	m, err := mount.Start(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := m.Unmount(); err != nil {
			t.Errorf("unmount %s: %v", o.Dir, err)
		}
	})
	return m
}

func (fe *filerEnv) mount(t *testing.T) (string, *mount.Mount) {
	t.Helper()
	dir := t.TempDir()
	return dir, fe.mountAt(t, fe.options(dir))
}

// shell returns a command running script in dir. The shell changes
// into dir itself: a forked child that touches the mount before exec can
// deadlock the test process, which serves the mount (a garbage collection
// waits for the forking thread, which waits for the child, which waits
// for a FUSE answer).
func shell(dir, script string) *exec.Cmd {
	cmd := exec.Command("sh", "-c", `cd "$0" && `+script, dir)
	cmd.Dir = "/"
	return cmd
}

// run runs a shell command and fails the test on error.
func run(t *testing.T, dir, script string) string {
	t.Helper()
	cmd := shell(dir, script)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v\n%s", script, err, out.String())
	}
	return strings.TrimSpace(out.String())
}

// eventually retries check until it is nil or d passed.
func eventually(t *testing.T, d time.Duration, check func() error) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
