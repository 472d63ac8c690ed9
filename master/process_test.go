package master_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"weedfs.dev/weed/client"
	"weedfs.dev/weed/internal/testcluster"
	"weedfs.dev/weed/storage/needle"
)

// procMasters is three `weed master` processes with default Raft timing.
type procMasters struct {
	t     *testing.T
	addrs []string
	dirs  []string
	procs []*testcluster.Proc
}

func (g *procMasters) start(i int) {
	port := strings.TrimPrefix(g.addrs[i], "127.0.0.1:")
	g.procs[i] = testcluster.Start(g.t, "master", "-ip", "127.0.0.1", "-port", port, "-mdir", g.dirs[i],
		"-peers", strings.Join(g.addrs, ","), "-pulseSeconds", "1", "-v", "warn")
}

func clusterStatus(addr string) (isLeader bool, maxVID uint32, ok bool) {
	c := &http.Client{Timeout: time.Second}
	resp, err := c.Get("http://" + addr + "/cluster/status")
	if err != nil {
		return false, 0, false
	}
	defer resp.Body.Close()
	var cs struct {
		IsLeader    bool
		MaxVolumeID uint32 `json:"MaxVolumeId"`
	}
	if json.NewDecoder(resp.Body).Decode(&cs) != nil {
		return false, 0, false
	}
	return cs.IsLeader, cs.MaxVolumeID, true
}

// leader waits until exactly one live master says it leads.
func (g *procMasters) leader(d time.Duration) int {
	g.t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		lead, n := -1, 0
		for i, p := range g.procs {
			if p.Exited() {
				continue
			}
			if is, _, _ := clusterStatus(g.addrs[i]); is {
				lead, n = i, n+1
			}
		}
		if n == 1 {
			return lead
		}
		time.Sleep(50 * time.Millisecond)
	}
	g.t.Fatalf("no single leader within %v", d)
	return -1
}

// serves waits until the master at addr lists the volume server in its
// /dir/status (it follows that master) and answers an assign.
func serves(t *testing.T, addr, volume string, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	c := &http.Client{Timeout: 2 * time.Second}
	for time.Now().Before(deadline) {
		resp, err := c.Get("http://" + addr + "/dir/status")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if strings.Contains(string(b), `"Url":"`+volume+`"`) {
				if resp, err := c.Get("http://" + addr + "/dir/assign"); err == nil {
					resp.Body.Close()
					if resp.StatusCode == http.StatusOK {
						return
					}
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("master %s did not serve assigns with volume server %s within %v", addr, volume, d)
}

// TestProcessKillLeader is the proof at process level: kill -9 the
// leader of three `weed master` processes under a steady assign load, twice;
// a new leader serves assigns within a few election timeouts, the volume
// server follows it, no key is issued twice; then every master restarts
// from its -mdir with the highest volume id and key reservations intact.
func TestProcessKillLeader(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs weed processes")
	}
	g := &procMasters{t: t, procs: make([]*testcluster.Proc, 3)}
	for range 3 {
		g.addrs = append(g.addrs, "127.0.0.1:"+strconv.Itoa(testcluster.FreePort(t)))
		g.dirs = append(g.dirs, t.TempDir())
	}
	for i := range 3 {
		g.start(i)
	}
	volPort := testcluster.FreePort(t)
	volAddr := "127.0.0.1:" + strconv.Itoa(volPort)
	testcluster.Start(t, "volume", "-ip", "127.0.0.1", "-port", strconv.Itoa(volPort), "-dir", t.TempDir(),
		"-max", "30", "-master", strings.Join(g.addrs, ","), "-pulseSeconds", "1", "-v", "warn")
	lead := g.leader(20 * time.Second)
	serves(t, g.addrs[lead], volAddr, 20*time.Second)

	var mu sync.Mutex
	keys := map[uint64]string{}
	var dups []string
	var maxKey uint64
	assigned := 0
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := client.New(g.addrs, client.Options{})
			for i := 0; ctx.Err() == nil; i++ {
				count := uint64(1 + (i+w)%3)
				actx, acancel := context.WithTimeout(ctx, 3*time.Second)
				a, err := c.Assign(actx, client.AssignOptions{Count: count})
				acancel()
				if err != nil {
					time.Sleep(10 * time.Millisecond)
					continue
				}
				id, err := needle.ParseFileID(a.Fid)
				if err != nil {
					t.Errorf("bad fid %q", a.Fid)
					return
				}
				mu.Lock()
				assigned++
				for k := id.Key; k < id.Key+a.Count; k++ {
					if prev, ok := keys[k]; ok {
						dups = append(dups, prev+" and "+a.Fid)
					}
					keys[k] = a.Fid
					maxKey = max(maxKey, k)
				}
				mu.Unlock()
			}
		}()
	}
	stopLoad := func() { cancel(); wg.Wait() }
	defer stopLoad()
	count := func() int { mu.Lock(); defer mu.Unlock(); return assigned }

	for round := range 2 {
		before := count()
		waitUntil(t, 10*time.Second, "assigns before the kill", func() bool { return count() > before+100 })
		g.procs[lead].Kill()
		killed := time.Now()
		old := lead
		lead = g.leader(20 * time.Second)
		serves(t, g.addrs[lead], volAddr, 20*time.Second)
		t.Logf("round %d: leader %s killed, %s serves assigns after %v", round, g.addrs[old], g.addrs[lead], time.Since(killed).Round(10*time.Millisecond))
		n := count()
		waitUntil(t, 10*time.Second, "assigns after the failover", func() bool { return count() > n+100 })
		g.start(old)
	}
	stopLoad()
	if len(dups) > 0 {
		t.Fatalf("%d keys issued twice, e.g. %s", len(dups), dups[0])
	}
	_, maxVID, _ := clusterStatus(g.addrs[lead])
	t.Logf("%d assigns, %d keys, highest key %d, highest volume id %d", assigned, len(keys), maxKey, maxVID)

	for _, p := range g.procs {
		p.Kill()
	}
	for i := range 3 {
		g.start(i)
	}
	lead = g.leader(20 * time.Second)
	if _, v, _ := clusterStatus(g.addrs[lead]); v != maxVID {
		t.Fatalf("after restart the highest volume id is %d, want %d", v, maxVID)
	}
	serves(t, g.addrs[lead], volAddr, 20*time.Second)
	c := client.New(g.addrs, client.Options{})
	a, err := c.Assign(context.Background(), client.AssignOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if id, _ := needle.ParseFileID(a.Fid); id.Key <= maxKey {
		t.Fatalf("after restart key %d is at or below the highest issued %d", id.Key, maxKey)
	}
}

func waitUntil(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestProcessMasterErrors: bad flags, a busy port and an unusable -mdir end
// `weed master` with status 1 and one line on stderr.
func TestProcessMasterErrors(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs weed processes")
	}
	busy := testcluster.FreePort(t)
	first := testcluster.Start(t, "master", "-port", strconv.Itoa(busy), "-mdir", t.TempDir())
	testcluster.WaitHTTP(t, "http://127.0.0.1:"+strconv.Itoa(busy)+"/healthz", 200, 20*time.Second)
	notDir := t.TempDir() + "/file"
	if err := os.WriteFile(notDir, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-port", strconv.Itoa(busy), "-mdir", t.TempDir()}, "address already in use"},
		{[]string{"-mdir", notDir + "/sub"}, "-mdir"},
		{[]string{"-defaultReplication", "abc", "-mdir", t.TempDir(), "-port", strconv.Itoa(testcluster.FreePort(t))}, "unexpected replication type: abc"},
		{[]string{"-peers", "nohostport", "-mdir", t.TempDir(), "-port", strconv.Itoa(testcluster.FreePort(t))}, "nohostport"},
		{[]string{"-garbageThreshold", "2"}, "-garbageThreshold"},
		{[]string{"-nosuchflag"}, "nosuchflag"},
	} {
		p := testcluster.Start(t, append([]string{"master"}, tc.args...)...)
		err := p.Wait(20 * time.Second)
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() == 0 {
			t.Fatalf("weed master %v: exit %v, want a failure", tc.args, err)
		}
		out := strings.TrimSpace(p.Output())
		last := out[strings.LastIndexByte(out, '\n')+1:]
		if !strings.Contains(last, tc.want) {
			t.Fatalf("weed master %v printed %q, want a line with %q", tc.args, out, tc.want)
		}
		if tc.args[0] != "-nosuchflag" && strings.Count(out, "\n") != 0 {
			t.Fatalf("weed master %v printed more than one line: %q", tc.args, out)
		}
	}
	if err := first.Stop(10 * time.Second); err != nil {
		t.Fatalf("SIGTERM: %v\n%s", err, first.Output())
	}
}
