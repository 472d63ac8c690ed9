package mount_test

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// sourceTree writes a tree of text and binary files (some spanning
// several chunks of 1 MiB) under dir.
func sourceTree(t *testing.T, dir string) {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 60; i++ {
		sub := filepath.Join(dir, fmt.Sprintf("pkg%d", i%7), fmt.Sprintf("sub%d", i%3))
		if err := os.MkdirAll(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		var body []byte
		switch i % 10 {
		case 0:
			body = make([]byte, 2<<20+rng.IntN(1<<20))
		case 1:
			body = nil
		default:
			body = make([]byte, rng.IntN(20000))
		}
		for j := range body {
			body[j] = byte(rng.Uint32())
		}
		if err := os.WriteFile(filepath.Join(sub, fmt.Sprintf("f%d.bin", i)), body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("pkg0/sub0", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
}

func TestCopyTreeAndDiff(t *testing.T) {
	requireFUSE(t)
	fe := newFilerEnv(t)
	mnt := t.TempDir()
	o := fe.options(mnt)
	o.ChunkSize = 1 << 20
	fe.mountAt(t, o)
	src := t.TempDir()
	sourceTree(t, src)
	run(t, mnt, "cp -a "+src+"/. copy/")
	run(t, "/", "diff -r --no-dereference "+src+" "+mnt+"/copy")
	// mv and rm -r of folders.
	run(t, mnt, "mv copy/pkg1 copy/pkg1-moved && mv copy moved")
	run(t, "/", "diff -r "+src+"/pkg1 "+mnt+"/moved/pkg1-moved")
	if _, err := os.Stat(filepath.Join(mnt, "copy")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("old folder still there: %v", err)
	}
	run(t, mnt, "rm -r moved")
	if out := run(t, mnt, "ls -A"); out != "" {
		t.Fatalf("after rm -r: %q", out)
	}
}

func TestTarRoundTrip(t *testing.T) {
	requireFUSE(t)
	fe := newFilerEnv(t)
	mnt, _ := fe.mount(t)
	src := t.TempDir()
	sourceTree(t, src)
	work := t.TempDir()
	run(t, src, "tar cf "+work+"/in.tar .")
	run(t, mnt, "mkdir x && tar xf "+work+"/in.tar -C x")
	run(t, mnt, "tar cf "+work+"/out.tar -C x .")
	run(t, work, "mkdir back && tar xf out.tar -C back")
	run(t, "/", "diff -r --no-dereference "+src+" "+work+"/back")
	// The listings of both archives agree (names, sizes, modes, times).
	in := run(t, work, "tar tvf in.tar | sort")
	out := run(t, work, "tar tvf out.tar | sort")
	if in != out {
		t.Fatalf("tar listings differ:\n%s\n---\n%s", in, out)
	}
}

func TestGit(t *testing.T) {
	requireFUSE(t)
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	fe := newFilerEnv(t)
	mnt, _ := fe.mount(t)
	git := "git -c user.name=t -c user.email=t@example.com -c init.defaultBranch=main "
	run(t, mnt, "mkdir repo && cd repo && "+git+"init -q . && echo one > a.txt && mkdir d && echo two > d/b.txt && "+
		git+"add -A && "+git+"commit -q -m first && echo three >> a.txt && "+git+"commit -q -am second")
	log := run(t, filepath.Join(mnt, "repo"), git+"log --format=%s")
	if log != "second\nfirst" {
		t.Fatalf("git log: %q", log)
	}
	run(t, filepath.Join(mnt, "repo"), git+"fsck --full")
	if st := run(t, filepath.Join(mnt, "repo"), git+"status --porcelain"); st != "" {
		t.Fatalf("git status not clean: %q", st)
	}
}

func md5File(t *testing.T, p string) string {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := md5.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// TestLargeFileAndRemount writes 256 MiB with dd, checks its MD5 through
// the mount, unmounts, mounts again and checks everything is still there.
func TestLargeFileAndRemount(t *testing.T) {
	requireFUSE(t)
	fe := newFilerEnv(t)
	mnt := t.TempDir()
	m := fe.mountAt(t, fe.options(mnt))
	src := filepath.Join(t.TempDir(), "big")
	f, err := os.Create(src)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	buf := make([]byte, 1<<20)
	for i := 0; i < 256; i++ {
		for j := 0; j+8 <= len(buf); j += 8 {
			v := rng.Uint64()
			for k := 0; k < 8; k++ {
				buf[j+k] = byte(v >> (8 * k))
			}
		}
		f.Write(buf)
	}
	f.Close()
	want := md5File(t, src)
	run(t, mnt, "dd if="+src+" of=big bs=1M conv=fsync status=none && mkdir -p keep && echo small > keep/s")
	if got := md5File(t, filepath.Join(mnt, "big")); got != want {
		t.Fatalf("md5 through the mount %s, want %s", got, want)
	}
	if err := m.Unmount(); err != nil {
		t.Fatal(err)
	}
	fe.mountAt(t, fe.options(mnt))
	if got := md5File(t, filepath.Join(mnt, "big")); got != want {
		t.Fatalf("md5 after remount %s, want %s", got, want)
	}
	if b, err := os.ReadFile(filepath.Join(mnt, "keep", "s")); err != nil || string(b) != "small\n" {
		t.Fatalf("small file after remount %q, %v", b, err)
	}
	// A ranged read in the middle, across a chunk boundary.
	g, err := os.Open(filepath.Join(mnt, "big"))
	if err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 1<<20)
	if _, err := g.ReadAt(got, 100<<20-512<<10); err != nil {
		t.Fatal(err)
	}
	g.Close()
	exp := make([]byte, 1<<20)
	h, _ := os.Open(src)
	h.ReadAt(exp, 100<<20-512<<10)
	h.Close()
	if !bytes.Equal(got, exp) {
		t.Fatal("ranged read across chunks differs")
	}
}

func TestAppendsFromTwoProcesses(t *testing.T) {
	requireFUSE(t)
	fe := newFilerEnv(t)
	mnt, _ := fe.mount(t)
	script := `for i in $(seq 1 150); do echo "%s line $i" >> log; done`
	a := shell(mnt, fmt.Sprintf(script, "A"))
	b := shell(mnt, fmt.Sprintf(script, "B"))
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	if err := b.Start(); err != nil {
		t.Fatal(err)
	}
	if err := a.Wait(); err != nil {
		t.Fatal(err)
	}
	if err := b.Wait(); err != nil {
		t.Fatal(err)
	}
	body, err := os.ReadFile(filepath.Join(mnt, "log"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(body), "\n"), "\n")
	seen := map[string]bool{}
	for _, l := range lines {
		seen[l] = true
	}
	for _, who := range []string{"A", "B"} {
		for i := 1; i <= 150; i++ {
			if l := fmt.Sprintf("%s line %d", who, i); !seen[l] {
				t.Fatalf("line %q lost (%d lines)", l, len(lines))
			}
		}
	}
	if len(lines) != 300 {
		t.Fatalf("%d lines, want 300", len(lines))
	}
}

// TestFilerHTTPAndMount: a file PUT through the filer's HTTP API shows up
// in the mount within a second, changes too, and the reverse.
func TestFilerHTTPAndMount(t *testing.T) {
	requireFUSE(t)
	fe := newFilerEnv(t)
	mnt, _ := fe.mount(t)
	// Let the mount cache the folder first, so the feed must correct it.
	os.MkdirAll(filepath.Join(mnt, "shared"), 0o755)
	if ents, _ := os.ReadDir(filepath.Join(mnt, "shared")); len(ents) != 0 {
		t.Fatalf("new folder has %d entries", len(ents))
	}
	put := func(p, body string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPut, "http://"+fe.addr+p, strings.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("PUT %s: %s", p, resp.Status)
		}
	}
	start := time.Now()
	put("/shared/from-http.txt", "written over HTTP")
	eventually(t, time.Second, func() error {
		b, err := os.ReadFile(filepath.Join(mnt, "shared", "from-http.txt"))
		if err != nil || string(b) != "written over HTTP" {
			return fmt.Errorf("mount shows %q, %v", b, err)
		}
		return nil
	})
	put("/shared/from-http.txt", "changed over HTTP, longer")
	eventually(t, time.Second, func() error {
		b, err := os.ReadFile(filepath.Join(mnt, "shared", "from-http.txt"))
		if err != nil || string(b) != "changed over HTTP, longer" {
			return fmt.Errorf("mount shows %q, %v", b, err)
		}
		return nil
	})
	t.Logf("HTTP writes visible in the mount after %v", time.Since(start))
	if err := os.WriteFile(filepath.Join(mnt, "shared", "from-mount.txt"), []byte("written in the mount"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Entries are saved by the mount's write-back within milliseconds.
	eventually(t, time.Second, func() error {
		resp, err := http.Get("http://" + fe.addr + "/shared/from-mount.txt")
		if err != nil {
			return err
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(b) != "written in the mount" {
			return fmt.Errorf("GET through the filer: %s %q", resp.Status, b)
		}
		return nil
	})
	// A delete over HTTP disappears from the mount.
	req, _ := http.NewRequest(http.MethodDelete, "http://"+fe.addr+"/shared/from-http.txt", nil)
	if resp, err := http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	} else {
		resp.Body.Close()
	}
	eventually(t, time.Second, func() error {
		if _, err := os.Stat(filepath.Join(mnt, "shared", "from-http.txt")); !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("deleted file still shows: %v", err)
		}
		return nil
	})
}

// TestFilerDown: with the filer gone, operations fail with EIO within the
// operation timeout; they work again once it is back.
func TestFilerDown(t *testing.T) {
	requireFUSE(t)
	fe := newFilerEnv(t)
	mnt, _ := fe.mount(t)
	if err := os.WriteFile(filepath.Join(mnt, "before"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	fe.stopFiler()
	start := time.Now()
	_, err := os.Stat(filepath.Join(mnt, "never-seen"))
	if !errors.Is(err, syscall.EIO) {
		t.Fatalf("stat with the filer down: %v, want EIO", err)
	}
	if err := os.WriteFile(filepath.Join(mnt, "during"), []byte("y"), 0o644); !errors.Is(err, syscall.EIO) {
		t.Fatalf("create with the filer down: %v, want EIO", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("failing took %v", d)
	}
	fe.restartFiler()
	eventually(t, 5*time.Second, func() error {
		return os.WriteFile(filepath.Join(mnt, "after"), []byte("z"), 0o644)
	})
	for _, name := range []string{"before", "after"} {
		if _, err := os.Stat(filepath.Join(mnt, name)); err != nil {
			t.Fatal(err)
		}
	}
}
