package mount_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"weedfs.dev/weed/cmd"
)

// Environment of the mount process TestKilledMountKeepsClosedFiles starts
// (this test binary again, running TestMountProcess).
const (
	childFilerEnv  = "WEED_MOUNT_TEST_FILER"
	childMasterEnv = "WEED_MOUNT_TEST_MASTER"
	childDirEnv    = "WEED_MOUNT_TEST_DIR"
)

// TestMountProcess is the mount process of TestKilledMountKeepsClosedFiles:
// `weed mount` (the command's own code, as the weed binary runs it), until
// it is killed.
func TestMountProcess(t *testing.T) {
	filerAddr := os.Getenv(childFilerEnv)
	if filerAddr == "" {
		t.Skip("only runs as the child of TestKilledMountKeepsClosedFiles")
	}
	os.Exit(cmd.Main([]string{"mount", "-filer=" + filerAddr, "-master=" + os.Getenv(childMasterEnv),
		"-dir=" + os.Getenv(childDirEnv), "-chunkSizeLimitMB=1", "-v=info"}, os.Stdout, os.Stderr))
}

// startMountProcess runs `weed mount` of fe at dir in another process and
// returns it once the mount serves.
func startMountProcess(t *testing.T, fe *filerEnv, dir string) *exec.Cmd {
	t.Helper()
	proc := exec.Command(os.Args[0], "-test.run=^TestMountProcess$", "-test.count=1")
	proc.Env = append(os.Environ(), childFilerEnv+"="+fe.addr, childMasterEnv+"="+fe.cluster.Master, childDirEnv+"="+dir)
	out, err := proc.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := proc.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		proc.Process.Kill()
		proc.Wait()
		exec.Command("fusermount3", "-uz", dir).Run()
	})
	// The command logs "mounted" once it serves; its log is shown if it
	// never does.
	ready := make(chan bool, 1)
	var log strings.Builder
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			log.WriteString(sc.Text() + "\n")
			if strings.Contains(sc.Text(), "msg=mounted") {
				ready <- true
				break
			}
		}
		close(ready)
		io.Copy(io.Discard, out)
	}()
	select {
	case ok := <-ready:
		if !ok {
			t.Fatalf("mount process ended:\n%s", log.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("mount process did not mount within 30 s")
	}
	return proc
}

// TestKilledMountKeepsClosedFiles: a mount process that is killed with
// SIGKILL right after programs closed files (and changed modes, made
// folders and symlinks) loses none of it: the filer's HTTP API serves
// every closed file whole, with its mode.
func TestKilledMountKeepsClosedFiles(t *testing.T) {
	requireFUSE(t)
	fe := newFilerEnv(t)
	mnt := t.TempDir()
	proc := startMountProcess(t, fe, mnt)

	type file struct {
		path string
		body []byte
		mode os.FileMode
	}
	rng := rand.New(rand.NewPCG(3, 4))
	var files []file
	var dirs []string
	for i := 0; i < 120; i++ {
		dir := fmt.Sprintf("d%d/s%d", i%5, i%3)
		if err := os.MkdirAll(filepath.Join(mnt, dir), 0o755); err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, dir)
		var body []byte
		switch i % 8 {
		case 0:
			body = make([]byte, 1<<20+rng.IntN(1<<20)) // two chunks
		case 1:
			body = nil
		default:
			body = make([]byte, 1+rng.IntN(30000)) // inline
		}
		for j := range body {
			body[j] = byte(rng.Uint32())
		}
		f := file{path: fmt.Sprintf("%s/f%d", dir, i), body: body, mode: 0o644}
		if err := os.WriteFile(filepath.Join(mnt, f.path), body, 0o644); err != nil {
			t.Fatal(err)
		}
		if i%4 == 3 {
			// A change after the close is applied before chmod returns.
			f.mode = 0o600
			if err := os.Chmod(filepath.Join(mnt, f.path), f.mode); err != nil {
				t.Fatal(err)
			}
		}
		files = append(files, f)
	}
	if err := os.Symlink("d0/s0", filepath.Join(mnt, "link")); err != nil {
		t.Fatal(err)
	}
	// The last file's close is the last thing before the kill.
	last := file{path: "last", body: []byte("closed just before the kill"), mode: 0o640}
	if err := os.WriteFile(filepath.Join(mnt, last.path), last.body, last.mode); err != nil {
		t.Fatal(err)
	}
	files = append(files, last)
	if err := proc.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	proc.Wait()

	base := "http://" + fe.addr + "/"
	for _, f := range files {
		resp, err := http.Get(base + f.path)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s after the kill: HTTP %d", f.path, resp.StatusCode)
			continue
		}
		if !bytes.Equal(got, f.body) {
			t.Errorf("%s after the kill: %d bytes, want %d (same bytes: %v)", f.path, len(got), len(f.body), bytes.Equal(got, f.body))
		}
		if mode := metaMode(t, base+f.path); mode.Perm() != f.mode {
			t.Errorf("%s after the kill: mode %v, want %v", f.path, mode.Perm(), f.mode)
		}
	}
	if mode := metaMode(t, base+"link"); mode&os.ModeSymlink == 0 {
		t.Errorf("symlink after the kill: mode %v", mode)
	}
	if mode := metaMode(t, base+dirs[0]); !mode.IsDir() {
		t.Errorf("%s after the kill: mode %v", dirs[0], mode)
	}
}

// metaMode returns the mode the filer's ?metadata=true shows for url.
func metaMode(t *testing.T, url string) os.FileMode {
	t.Helper()
	resp, err := http.Get(url + "?metadata=true")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var e struct{ Mode os.FileMode }
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s?metadata=true: HTTP %d", url, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
		t.Fatalf("%s?metadata=true: %v", url, err)
	}
	return e.Mode
}
