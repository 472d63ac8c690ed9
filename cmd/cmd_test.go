package cmd

import (
	"bytes"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"weedfs.dev/weed/internal/testcluster"
)

func run(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := Main(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestVersionAndHelp(t *testing.T) {
	code, out, _ := run("version")
	if code != 0 || !strings.HasPrefix(out, "weed "+Version) {
		t.Fatalf("version: %d %q", code, out)
	}
	code, out, _ = run("help")
	if code != 0 {
		t.Fatalf("help: %d", code)
	}
	for _, c := range all() {
		if !strings.Contains(out, "  "+c.Name+" ") {
			t.Errorf("help does not list %s", c.Name)
		}
		code, usage, _ := run("help", c.Name)
		if code != 0 || !strings.Contains(usage, "weed "+c.Name) {
			t.Errorf("help %s: %d %q", c.Name, code, usage)
		}
	}
	if code, _, errs := run("nosuch"); code != 2 || !strings.Contains(errs, "unknown command") {
		t.Fatalf("unknown command: %d %q", code, errs)
	}
}

// TestServerErrorsAreOneLine runs the real binary: bad flags, busy ports
// and unusable folders end with exit status 1 and a one-line message.
func TestServerErrorsAreOneLine(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	busyPort := strconv.Itoa(busy.Addr().(*net.TCPAddr).Port)
	cases := [][]string{
		{"volume", "-nosuchflag"},
		{"volume", "-port", busyPort, "-dir", t.TempDir()},
		{"volume", "-dir", "/proc/no/such/place"},
		{"volume", "-max", "lots", "-dir", t.TempDir()},
	}
	for _, args := range cases {
		p := testcluster.Start(t, args...)
		err := p.Wait(20 * time.Second)
		if err == nil || !strings.Contains(err.Error(), "exit status 1") {
			t.Errorf("weed %v: %v, want exit status 1", args, err)
			continue
		}
		out := p.Output()
		if strings.Contains(out, "goroutine ") || strings.Contains(out, "panic") {
			t.Errorf("weed %v printed a stack trace:\n%s", args, out)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		last := lines[len(lines)-1]
		if !strings.HasPrefix(last, "weed "+args[0]+": ") {
			t.Errorf("weed %v: last line %q is not the one-line error", args, last)
		}
	}
}
