package server_test

import (
	"context"
	"crypto/md5"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"weedfs.dev/weed/client"
	"weedfs.dev/weed/filer/stores/embedded"
	"weedfs.dev/weed/internal/testcluster"
)

// procCluster is a master and a volume server as weed processes.
func procCluster(t *testing.T) (masterAddr string) {
	t.Helper()
	mport, vport := testcluster.FreePort(t), testcluster.FreePort(t)
	masterAddr = "127.0.0.1:" + strconv.Itoa(mport)
	testcluster.Start(t, "master", "-port", strconv.Itoa(mport), "-mdir", t.TempDir(), "-pulseSeconds", "1")
	testcluster.Start(t, "volume", "-port", strconv.Itoa(vport), "-dir", t.TempDir(), "-max", "16",
		"-master", masterAddr, "-pulseSeconds", "1")
	c := client.New([]string{masterAddr}, client.Options{})
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err := c.Assign(ctx, client.AssignOptions{})
		cancel()
		if err == nil {
			return masterAddr
		}
		if time.Now().After(deadline) {
			t.Fatalf("cluster does not assign: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func startFilerProc(t *testing.T, masterAddr, dir string, port int) *testcluster.Proc {
	t.Helper()
	p := testcluster.Start(t, "filer", "-port", strconv.Itoa(port), "-master", masterAddr, "-dir", dir, "-maxMB", "1")
	testcluster.WaitHTTP(t, "http://127.0.0.1:"+strconv.Itoa(port)+"/healthz", 200, 20*time.Second)
	return p
}

// slowBody streams n bytes of data in pieces, pausing between them, so
// uploads are in flight when the filer dies.
type slowBody struct {
	data  []byte
	pause time.Duration
	sent  *atomic.Int64 // bytes handed out, when not nil
}

func (s *slowBody) Read(p []byte) (int, error) {
	if len(s.data) == 0 {
		return 0, io.EOF
	}
	n := copy(p, s.data)
	s.data = s.data[n:]
	if s.sent != nil {
		s.sent.Add(int64(n))
	}
	// pause is per 256 KiB, whatever size of reads the transport makes.
	time.Sleep(s.pause * time.Duration(n) / (256 << 10))
	return n, nil
}

// kill -9 of a filer process in the middle of uploads: afterwards every
// entry reads back whole (its chunks are all readable), and the chunks of
// the uploads cut off are deleted by the restarted filer.
func TestKillFilerDuringUploads(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs weed processes")
	}
	masterAddr := procCluster(t)
	dir := t.TempDir()
	port := testcluster.FreePort(t)
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	proc := startFilerProc(t, masterAddr, dir, port)

	const files = 12
	bodies := make([][]byte, files)
	var slowSent [files / 2]atomic.Int64
	var wg, fast sync.WaitGroup
	for i := range files {
		bodies[i] = randomBytes(uint64(100+i), 3<<20+i*1000)
		wg.Add(1)
		// Half go fast and finish; half trickle (about 4 s each) and are
		// cut off.
		pause := time.Millisecond
		if i%2 == 1 {
			pause = 300 * time.Millisecond
		} else {
			fast.Add(1)
		}
		go func() {
			defer wg.Done()
			if i%2 == 0 {
				defer fast.Done()
			}
			body := &slowBody{data: bodies[i], pause: pause}
			if i%2 == 1 {
				body.sent = &slowSent[i/2]
			}
			req, _ := http.NewRequest(http.MethodPut, fmt.Sprintf("%s/up/f%02d", base, i), body)
			req.ContentLength = int64(len(bodies[i]))
			if resp, err := http.DefaultClient.Do(req); err == nil {
				resp.Body.Close()
			}
		}()
	}
	// Kill once the fast ones are in and each slow one has handed the
	// filer its first 1 MiB chunk whole and a bit more (about 1.5 s), and
	// that chunk had a moment to reach the volume server; a slow body
	// needs about 3.6 s in all, so none finishes.
	fastDone := make(chan struct{})
	go func() { fast.Wait(); close(fastDone) }()
	select {
	case <-fastDone:
	case <-time.After(20 * time.Second):
	}
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		ready := 0
		for i := range slowSent {
			if slowSent[i].Load() >= 1<<20+256<<10 {
				ready++
			}
		}
		if ready == len(slowSent) {
			break
		}
	}
	time.Sleep(500 * time.Millisecond)
	proc.Kill()
	wg.Wait()

	// What the dead filer left in flight, read from its store.
	st, err := embedded.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Fids reserved and held by no entry: those of the cut-off uploads
	// (and fids never sent).
	inflight := unsettledFids(t, st)
	st.Close()
	if len(inflight) == 0 {
		t.Fatal("no upload was in flight when the filer died; the test proves nothing")
	}
	c := client.New([]string{masterAddr}, client.Options{})
	readable := func(fid string) bool {
		_, _, err := c.Read(context.Background(), fid, client.ReadOptions{Length: 1})
		return err == nil
	}

	orphans := 0
	for _, fid := range inflight {
		if readable(fid) {
			orphans++
		}
	}
	if orphans == 0 {
		t.Fatal("no chunk of the cut-off uploads reached a volume server; the test proves nothing")
	}

	startFilerProc(t, masterAddr, dir, port)
	// Every entry reads back whole and right.
	req, _ := http.NewRequest(http.MethodGet, base+"/up/", nil)
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var l struct{ Entries []struct{ FullPath string } }
	json.NewDecoder(resp.Body).Decode(&l)
	resp.Body.Close()
	readAll := func(when string) {
		for _, en := range l.Entries {
			i, _ := strconv.Atoi(strings.TrimPrefix(en.FullPath, "/up/f"))
			resp, err := http.Get(base + en.FullPath)
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || resp.StatusCode != 200 || md5.Sum(got) != md5.Sum(bodies[i]) {
				t.Fatalf("%s %s: %d, %d bytes, %v", en.FullPath, when, resp.StatusCode, len(got), err)
			}
		}
	}
	readAll("after the crash")
	t.Logf("%d of %d files completed before the kill; %d reserved fids held by no entry, %d of them stored", len(l.Entries), files, len(inflight), orphans)
	if len(l.Entries) == files {
		t.Fatal("every upload completed; none was cut off")
	}
	// The chunks of the cut-off uploads go away.
	deadline := time.Now().Add(30 * time.Second)
	for _, fid := range inflight {
		for readable(fid) {
			if time.Now().After(deadline) {
				t.Fatalf("orphaned chunk %s is still stored", fid)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	// Recovery deleted none of the chunks the entries hold.
	readAll("after the orphans were deleted")
}

// weed filer stops cleanly on SIGTERM, even with a change-feed stream open.
func TestFilerGracefulStop(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs weed processes")
	}
	port := testcluster.FreePort(t)
	// No master is needed to start, serve the namespace and stop.
	p := startFilerProc(t, "127.0.0.1:1", t.TempDir(), port)
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	resp, err := http.Post(base+"/made/", "", nil)
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("mkdir: %v %v", resp, err)
	}
	resp.Body.Close()
	stream, err := http.Get(base + "/internal/events?since=0")
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Body.Close()
	if err := p.Stop(10 * time.Second); err != nil {
		t.Fatalf("stop: %v\n%s", err, p.Output())
	}
	if !strings.Contains(p.Output(), "filer stopped") {
		t.Fatalf("no clean stop in the output:\n%s", p.Output())
	}
}
