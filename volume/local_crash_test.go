package volume_test

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"weedfs.dev/weed/client"
	"weedfs.dev/weed/client/localput"
	"weedfs.dev/weed/internal/testcluster"
)

// localCluster is a master and a volume server process, the volume
// server serving same-host uploads (on by default).
type localCluster struct {
	t      *testing.T
	master string
	vport  int
	vdir   string
	vol    *testcluster.Proc
}

func startLocalCluster(t *testing.T) *localCluster {
	t.Helper()
	if testing.Short() {
		t.Skip("process-level crash test")
	}
	if !localput.Supported {
		t.Skip("same-host uploads need Linux")
	}
	mport := testcluster.FreePort(t)
	lc := &localCluster{t: t, master: "127.0.0.1:" + strconv.Itoa(mport), vport: testcluster.FreePort(t), vdir: t.TempDir()}
	testcluster.Start(t, "master", "-port", strconv.Itoa(mport), "-mdir", t.TempDir(), "-pulseSeconds", "1")
	lc.startVolume()
	return lc
}

func (lc *localCluster) startVolume() {
	lc.t.Helper()
	lc.vol = testcluster.Start(lc.t, "volume", "-port", strconv.Itoa(lc.vport), "-dir", lc.vdir, "-max", "20",
		"-master", lc.master, "-pulseSeconds", "1")
	testcluster.WaitHTTP(lc.t, "http://127.0.0.1:"+strconv.Itoa(lc.vport)+"/admin/local", 200, 20*time.Second)
}

// fill writes fid's content (a function of the fid) into b.
func fill(fid string, b []byte) [32]byte {
	rng := rand.New(rand.NewPCG(uint64(len(fid)), uint64(sha256.Sum256([]byte(fid))[0])))
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	copy(b, fid)
	return sha256.Sum256(b)
}

type ackedBlob struct {
	fid string
	sum [32]byte
}

// checkAcked reads every acknowledged blob back byte-exact.
func checkAcked(t *testing.T, c *client.Client, acked []ackedBlob) {
	t.Helper()
	for _, a := range acked {
		var body []byte
		var err error
		for try := 0; try < 100; try++ {
			if body, _, err = c.Read(context.Background(), a.fid, client.ReadOptions{}); err == nil {
				break
			}
			time.Sleep(100 * time.Millisecond) // the master may not know the restarted server yet
		}
		if err != nil {
			t.Fatalf("acknowledged %s lost: %v", a.fid, err)
		}
		if sha256.Sum256(body) != a.sum {
			t.Fatalf("acknowledged %s reads back different bytes (%d)", a.fid, len(body))
		}
	}
}

// A volume server killed with SIGKILL while clients upload through shared
// memory: every acknowledged upload reads back after the restart.
func TestLocalPutServerKill9(t *testing.T) {
	lc := startLocalCluster(t)
	c := client.New([]string{lc.master}, client.Options{})
	const writers, slot = 4, 1 << 20
	arena, err := localput.NewArena(writers * slot)
	if err != nil {
		t.Fatal(err)
	}
	defer arena.Close()
	var acked []ackedBlob
	for round := 0; round < 2; round++ {
		// A new writer each round: one whose socket failed sends PUTs
		// for a while, and this test is about the socket.
		w := client.NewChunkWriter(writers)
		ctx, cancel := context.WithCancel(context.Background())
		var mu sync.Mutex
		var wg sync.WaitGroup
		for k := 0; k < writers; k++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				mem := arena.Bytes()[k*slot : (k+1)*slot]
				for i := 0; ctx.Err() == nil && i < 100000; i++ {
					a, err := c.Assign(ctx, client.AssignOptions{})
					if err != nil {
						time.Sleep(20 * time.Millisecond)
						continue
					}
					data := mem[:4096+(i*7919)%(slot-4096)]
					sum := fill(a.Fid, data)
					if _, err := w.PutFrom(ctx, a.URL, a.Fid, arena, data, nil, client.UploadOptions{JWT: a.Auth}); err != nil {
						continue
					}
					mu.Lock()
					acked = append(acked, ackedBlob{a.Fid, sum})
					mu.Unlock()
				}
			}()
		}
		deadline := time.Now().Add(20 * time.Second)
		for w.LocalPuts() < 100 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		lc.vol.Kill()
		time.Sleep(50 * time.Millisecond)
		cancel()
		wg.Wait()
		w.Close()
		if w.LocalPuts() == 0 {
			t.Fatalf("round %d: no upload went through the socket", round)
		}
		t.Logf("round %d: %d through the socket, %d acknowledged in all", round, w.LocalPuts(), len(acked))
		lc.startVolume()
		checkAcked(t, c, acked)
	}
}

// localClientEnv names the master a child client process uploads to.
const localClientEnv = "WEED_TEST_LOCAL_CLIENT_MASTER"

// TestLocalClientChild is the client process of TestLocalPutClientKill9:
// it uploads 4 MiB chunks through shared memory and prints "ack FID SUM"
// for each acknowledged one, until it is killed.
func TestLocalClientChild(t *testing.T) {
	master := os.Getenv(localClientEnv)
	if master == "" {
		t.Skip("the child of TestLocalPutClientKill9")
	}
	c := client.New([]string{master}, client.Options{})
	arena, err := localput.NewArena(8 << 20)
	if err != nil {
		t.Fatal(err)
	}
	w := client.NewChunkWriter(1)
	out := bufio.NewWriter(os.Stdout)
	ctx := context.Background()
	for i := 0; i < 100000; i++ {
		a, err := c.Assign(ctx, client.AssignOptions{})
		if err != nil {
			time.Sleep(20 * time.Millisecond)
			continue
		}
		data := arena.Bytes()[(i%2)<<22 : (i%2+1)<<22]
		sum := fill(a.Fid, data)
		if _, err := w.PutFrom(ctx, a.URL, a.Fid, arena, data, nil, client.UploadOptions{JWT: a.Auth}); err != nil {
			continue
		}
		fmt.Fprintf(out, "ack %s %x %d\n", a.Fid, sum, w.LocalPuts())
		out.Flush()
	}
}

// A client killed with SIGKILL in the middle of its uploads: what it was
// told is stored reads back, the server goes on taking uploads through the
// socket, and its volumes recover whole after a kill of their own.
func TestLocalPutClientKill9(t *testing.T) {
	lc := startLocalCluster(t)
	c := client.New([]string{lc.master}, client.Options{})
	child := exec.Command(os.Args[0], "-test.run=^TestLocalClientChild$", "-test.count=1")
	child.Env = append(os.Environ(), localClientEnv+"="+lc.master)
	stdout, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	defer child.Process.Kill()
	var acked []ackedBlob
	var throughSocket int
	sc := bufio.NewScanner(stdout)
	for len(acked) < 40 && sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 4 || f[0] != "ack" {
			continue
		}
		b, err := hex.DecodeString(f[2])
		if err != nil || len(b) != 32 {
			t.Fatalf("child said %q", sc.Text())
		}
		a := ackedBlob{fid: f[1]}
		copy(a.sum[:], b)
		acked = append(acked, a)
		throughSocket, _ = strconv.Atoi(f[3])
	}
	if err := child.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	child.Wait()
	if len(acked) < 40 || throughSocket == 0 {
		t.Fatalf("child acknowledged %d uploads, %d through the socket", len(acked), throughSocket)
	}
	checkAcked(t, c, acked)

	// The server still takes uploads through the socket.
	arena, err := localput.NewArena(1 << 20)
	if err != nil {
		t.Fatal(err)
	}
	defer arena.Close()
	w := client.NewChunkWriter(1)
	defer w.Close()
	for i := 0; i < 10; i++ {
		a, err := c.Assign(context.Background(), client.AssignOptions{})
		if err != nil {
			t.Fatal(err)
		}
		data := arena.Bytes()[:100<<10]
		sum := fill(a.Fid, data)
		if _, err := w.PutFrom(context.Background(), a.URL, a.Fid, arena, data, nil, client.UploadOptions{JWT: a.Auth}); err != nil {
			t.Fatal(err)
		}
		acked = append(acked, ackedBlob{a.Fid, sum})
	}
	if w.LocalPuts() != 10 {
		t.Fatalf("%d of 10 uploads after the kill went through the socket", w.LocalPuts())
	}
	// And what the volumes hold recovers whole from a kill.
	lc.vol.Kill()
	lc.startVolume()
	checkAcked(t, c, acked)
}
