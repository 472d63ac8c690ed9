package cmd

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// quickstartCommands returns the curl lines of the README's quick start
// block (the fenced block after "<!-- quickstart -->").
func quickstartCommands(t *testing.T, readme string) []string {
	t.Helper()
	i := strings.Index(readme, "<!-- quickstart -->")
	if i < 0 {
		t.Fatal("README has no quick start block")
	}
	block := readme[i:]
	start := strings.Index(block, "```sh\n")
	end := strings.Index(block[start+6:], "```")
	var cmds []string
	sc := bufio.NewScanner(strings.NewReader(block[start+6 : start+6+end]))
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" && !strings.HasPrefix(line, "#") {
			cmds = append(cmds, line)
		}
	}
	return cmds
}

// TestReadmeQuickStart does what the README tells a new user: `make run`,
// then the quick start's curl commands, with the fid the assign returned in
// place of the README's example fid.
func TestReadmeQuickStart(t *testing.T) {
	if testing.Short() {
		t.Skip("runs make run")
	}
	for _, port := range []string{"9333", "8080"} {
		ln, err := net.Listen("tcp", "127.0.0.1:"+port)
		if err != nil {
			t.Fatalf("the quick start needs port %s free: %v", port, err)
		}
		ln.Close()
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	cmds := quickstartCommands(t, string(readme))
	if len(cmds) != 4 {
		t.Fatalf("quick start has %d commands, want assign, upload, read, delete: %q", len(cmds), cmds)
	}
	const exampleFid = "3,01637037d6"

	run := exec.Command("make", "run", "DATA="+t.TempDir())
	run.Dir = root
	var out bytes.Buffer
	run.Stdout, run.Stderr = &out, &out
	run.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		syscall.Kill(-run.Process.Pid, syscall.SIGTERM)
		done := make(chan struct{})
		go func() { run.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			syscall.Kill(-run.Process.Pid, syscall.SIGKILL)
			<-done
		}
		if t.Failed() {
			t.Logf("make run printed:\n%s", out.String())
		}
	}()

	sh := func(line string) []byte {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		c := exec.CommandContext(ctx, "bash", "-c", line)
		c.Dir = root
		b, err := c.Output()
		if err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		return b
	}
	// The README says "a few seconds": poll the assign until it gives a fid.
	var assign struct {
		Fid string `json:"fid"`
		URL string `json:"url"`
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		c := exec.Command("bash", "-c", cmds[0])
		if b, err := c.Output(); err == nil && json.Unmarshal(b, &assign) == nil && assign.Fid != "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%q gave no fid within a minute", cmds[0])
		}
		time.Sleep(250 * time.Millisecond)
	}
	if assign.URL != "127.0.0.1:8080" {
		t.Fatalf("assign points at %q; the README uses 127.0.0.1:8080", assign.URL)
	}
	with := func(line string) string { return strings.ReplaceAll(line, exampleFid, assign.Fid) }

	var up map[string]any
	if err := json.Unmarshal(sh(with(cmds[1])), &up); err != nil || up["name"] != "README.md" || up["size"] != float64(len(readme)) {
		t.Fatalf("upload reply %v (%v)", up, err)
	}
	if got := sh(with(cmds[2])); !bytes.Equal(got, readme) {
		t.Fatalf("read gave %d bytes, want the README's %d", len(got), len(readme))
	}
	var del map[string]any
	if err := json.Unmarshal(sh(with(cmds[3])), &del); err != nil || del["size"] == nil || del["size"] == float64(0) {
		t.Fatalf("delete reply %v (%v)", del, err)
	}
	if got := sh("curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:8080/" + assign.Fid); string(got) != "404" {
		t.Fatalf("after delete the blob answers %s", got)
	}
}
