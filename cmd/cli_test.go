package cmd

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"weedfs.dev/weed/internal/testcluster"
)

// startServer runs `weed server` on free ports in a temp dir and waits
// until it assigns; it returns the master address.
func startServer(t *testing.T, extra ...string) string {
	t.Helper()
	mport, vport := testcluster.FreePort(t), testcluster.FreePort(t)
	args := append([]string{"server", "-dir", t.TempDir(), "-master.port", strconv.Itoa(mport),
		"-volume.port", strconv.Itoa(vport), "-pulseSeconds", "1"}, extra...)
	testcluster.Start(t, args...)
	maddr := "127.0.0.1:" + strconv.Itoa(mport)
	testcluster.WaitHTTP(t, "http://"+maddr+"/dir/assign", 200, 30*time.Second)
	return maddr
}

// weed runs the binary to completion and returns its stdout.
func weed(t *testing.T, args ...string) []byte {
	t.Helper()
	var out, errb bytes.Buffer
	c := exec.Command(testcluster.Binary(t), args...)
	c.Stdout, c.Stderr = &out, &errb
	if err := c.Run(); err != nil {
		t.Fatalf("weed %s: %v\n%s", strings.Join(args, " "), err, errb.String())
	}
	return out.Bytes()
}

func writeRandom(t *testing.T, path string, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	rand.Read(b)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return b
}

// TestUploadDownload uploads files, a folder (with -include) and a 100 MiB
// file cut into chunks, then downloads every fid and compares bytes.
func TestUploadDownload(t *testing.T) {
	if testing.Short() {
		t.Skip("process-level test")
	}
	maddr := startServer(t)
	src := t.TempDir()
	files := map[string][]byte{
		"one.bin":        writeRandom(t, filepath.Join(src, "one.bin"), 1000),
		"empty.txt":      writeRandom(t, filepath.Join(src, "empty.txt"), 0),
		"tree/a.txt":     writeRandom(t, filepath.Join(src, "tree", "a.txt"), 5000),
		"tree/sub/b.txt": writeRandom(t, filepath.Join(src, "tree", "sub", "b.txt"), 70000),
	}
	writeRandom(t, filepath.Join(src, "tree", "skip.dat"), 10) // not matched by -include
	big := writeRandom(t, filepath.Join(src, "big.bin"), 100<<20)

	type result struct {
		FileName, Fid, FileURL, Error string
		Size                          int64
	}
	upload := func(args ...string) []result {
		var rs []result
		out := weed(t, append([]string{"upload", "-master", maddr}, args...)...)
		if err := json.Unmarshal(out, &rs); err != nil {
			t.Fatalf("upload output %q: %v", out, err)
		}
		return rs
	}
	got := upload(filepath.Join(src, "one.bin"), filepath.Join(src, "empty.txt"))
	got = append(got, upload("-include", "*.txt", filepath.Join(src, "tree"))...)
	got = append(got, upload("-maxMB", "8", filepath.Join(src, "big.bin"))...)
	if len(got) != 5 {
		t.Fatalf("%d results, want 5 (skip.dat excluded): %+v", len(got), got)
	}
	want := map[string][]byte{"one.bin": files["one.bin"], "empty.txt": files["empty.txt"],
		"a.txt": files["tree/a.txt"], "b.txt": files["tree/sub/b.txt"], "big.bin": big}
	dl := t.TempDir()
	fidRe := regexp.MustCompile(`^\d+,[0-9a-f]{9,}$`)
	for _, r := range got {
		w, ok := want[r.FileName]
		if !ok || r.Error != "" || !fidRe.MatchString(r.Fid) || r.Size != int64(len(w)) || !strings.HasSuffix(r.FileURL, "/"+r.Fid) {
			t.Fatalf("result %+v", r)
		}
		out := weed(t, "download", "-master", maddr, "-dir", dl, r.Fid)
		fields := strings.Split(strings.TrimSpace(string(out)), "\t")
		if len(fields) != 3 {
			t.Fatalf("download output %q", out)
		}
		b, err := os.ReadFile(fields[1])
		if err != nil {
			t.Fatal(err)
		}
		if len(w) > 0 && filepath.Base(fields[1]) != r.FileName {
			t.Errorf("%s downloaded as %s", r.FileName, fields[1])
		}
		if !bytes.Equal(b, w) {
			t.Fatalf("%s: downloaded %d bytes differ from the %d uploaded", r.FileName, len(b), len(w))
		}
	}
}

// TestBenchmarkCompletes runs `weed benchmark -n 2000` against a server and
// expects zero failures in both phases, with and without -assignBatch.
func TestBenchmarkCompletes(t *testing.T) {
	if testing.Short() {
		t.Skip("process-level test")
	}
	maddr := startServer(t)
	for _, batch := range []string{"1", "100"} {
		list := filepath.Join(t.TempDir(), "list.txt")
		out := string(weed(t, "benchmark", "-master", maddr, "-n", "2000", "-c", "8", "-assignBatch", batch, "-list", list))
		for _, title := range []string{"Writing Benchmark", "Randomly Reading Benchmark"} {
			if !strings.Contains(out, title) {
				t.Fatalf("no %s in:\n%s", title, out)
			}
		}
		if strings.Count(out, "Completed requests:      2000") != 2 || strings.Count(out, "Failed requests:        0") != 2 {
			t.Fatalf("-assignBatch %s: not 2000 clean requests per phase:\n%s", batch, out)
		}
		for _, p := range []string{" 50%", " 99%", "100%", "Requests per second"} {
			if !strings.Contains(out, p) {
				t.Fatalf("report lacks %q:\n%s", p, out)
			}
		}
		lines, _ := os.ReadFile(list)
		if n := strings.Count(string(lines), "\n"); n != 2000 {
			t.Fatalf("fid list has %d lines", n)
		}
	}
}

// TestServerWithFiler runs `weed server -filer` and writes and reads a file
// through the filer's HTTP API.
func TestServerWithFiler(t *testing.T) {
	if testing.Short() {
		t.Skip("process-level test")
	}
	fport := testcluster.FreePort(t)
	startServer(t, "-filer", "-filer.port", strconv.Itoa(fport))
	base := "http://127.0.0.1:" + strconv.Itoa(fport)
	testcluster.WaitHTTP(t, base+"/", 0, 30*time.Second)
	body := bytes.Repeat([]byte("filer through weed server\n"), 1000)
	req, _ := http.NewRequest(http.MethodPut, base+"/docs/a.txt", bytes.NewReader(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("PUT: %d", resp.StatusCode)
	}
	resp, err = http.Get(base + "/docs/a.txt")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Equal(got, body) {
		t.Fatalf("GET: %d, %d bytes", resp.StatusCode, len(got))
	}
}
