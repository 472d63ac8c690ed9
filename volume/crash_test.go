package volume_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"
	"time"

	"weedfs.dev/weed/client"
	"weedfs.dev/weed/internal/testcluster"
)

// TestKill9UnderLoad runs a master and a volume server as processes,
// writes from concurrent clients, kills the volume server with SIGKILL in
// the middle, restarts it on the same folder, and reads back every fid that
// was acknowledged with 201: nothing lost, nothing corrupt. Several rounds,
// so later rounds also recover volumes that were recovered before.
func TestKill9UnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("process-level crash test")
	}
	mport, vport := testcluster.FreePort(t), testcluster.FreePort(t)
	maddr := "127.0.0.1:" + strconv.Itoa(mport)
	vdir := t.TempDir()
	testcluster.Start(t, "master", "-port", strconv.Itoa(mport), "-mdir", t.TempDir(), "-pulseSeconds", "1")
	startVolume := func() *testcluster.Proc {
		p := testcluster.Start(t, "volume", "-port", strconv.Itoa(vport), "-dir", vdir, "-max", "20",
			"-master", maddr, "-pulseSeconds", "1")
		testcluster.WaitHTTP(t, "http://127.0.0.1:"+strconv.Itoa(vport)+"/status", 200, 20*time.Second)
		return p
	}
	vol := startVolume()
	c := client.New([]string{maddr}, client.Options{})

	type acked struct {
		fid string
		sum [32]byte
	}
	var (
		mu   sync.Mutex
		good []acked
	)
	content := func(fid string, n int) []byte {
		rng := rand.New(rand.NewPCG(uint64(len(fid)), uint64(sha256.Sum256([]byte(fid))[0])))
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		copy(b, fid)
		return b
	}
	for round := 0; round < 3; round++ {
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		var ok, failed int
		var countMu sync.Mutex
		for w := 0; w < 8; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ctx.Err() == nil && i < 100000; i++ {
					a, err := c.Assign(ctx, client.AssignOptions{})
					if err != nil {
						time.Sleep(20 * time.Millisecond)
						continue
					}
					data := content(a.Fid, 100+(i*7919)%20000)
					_, err = c.Upload(ctx, a.URL, a.Fid, data, client.UploadOptions{Name: "f.bin"})
					countMu.Lock()
					if err == nil {
						ok++
					} else {
						failed++
					}
					countMu.Unlock()
					if err != nil {
						continue
					}
					mu.Lock()
					good = append(good, acked{a.Fid, sha256.Sum256(data)})
					mu.Unlock()
				}
			}()
		}
		// Let writes flow, then kill the volume server mid-load.
		deadline := time.Now().Add(10 * time.Second)
		for {
			countMu.Lock()
			n := ok
			countMu.Unlock()
			if n >= 200*(round+1) || time.Now().After(deadline) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		vol.Kill()
		time.Sleep(100 * time.Millisecond)
		cancel()
		wg.Wait()
		t.Logf("round %d: %d acknowledged, %d failed around the kill", round, ok, failed)
		if ok == 0 {
			t.Fatalf("round %d: no write was acknowledged", round)
		}
		vol = startVolume()

		// Every acknowledged write reads back byte-exact.
		mu.Lock()
		all := append([]acked(nil), good...)
		mu.Unlock()
		for _, g := range all {
			var body []byte
			var err error
			for try := 0; try < 50; try++ {
				body, _, err = c.Read(context.Background(), g.fid, client.ReadOptions{})
				if err == nil {
					break
				}
				time.Sleep(100 * time.Millisecond) // the master may not know the volume's new life yet
			}
			if err != nil {
				t.Fatalf("round %d: acknowledged %s lost: %v", round, g.fid, err)
			}
			if sha256.Sum256(body) != g.sum {
				t.Fatalf("round %d: acknowledged %s reads back different bytes (%d)", round, g.fid, len(body))
			}
			if !bytes.HasPrefix(body, []byte(g.fid)) {
				t.Fatalf("%s: content of another fid", g.fid)
			}
		}
	}
	t.Logf("%d acknowledged writes survived 3 kill -9 rounds", len(good))
}
