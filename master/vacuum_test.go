package master

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"weedfs.dev/weed/client"
	"weedfs.dev/weed/storage/needle"
)

func TestVacuumCompactsWhileOtherVolumesTakeWrites(t *testing.T) {
	m, v := cluster1(t, Config{VacuumInterval: -1})
	ctx := context.Background()
	c := client.New([]string{m.addr}, client.Options{})

	// One volume in collection "vac": every assign of it lands there.
	resp, b := get(t, m.addr, "/vol/grow", url.Values{"count": {"1"}, "collection": {"vac"}})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/vol/grow: %d %s", resp.StatusCode, b)
	}
	var fids []string
	blob := bytes.Repeat([]byte("garbage!"), 512)
	for range 40 {
		a := assignOK(t, m.addr, url.Values{"collection": {"vac"}})
		if _, err := c.Upload(ctx, a.URL, a.Fid, blob, client.UploadOptions{}); err != nil {
			t.Fatal(err)
		}
		fids = append(fids, a.Fid)
	}
	fid0, _ := needle.ParseFileID(fids[0])
	vol, err := v.store.Volume(fid0.VolumeID)
	if err != nil {
		t.Fatal(err)
	}
	for _, fid := range fids[10:] {
		if err := c.Delete(ctx, fid, ""); err != nil {
			t.Fatal(err)
		}
	}
	before := vol.Info()
	if r := vol.GarbageRatio(); r < 0.5 {
		t.Fatalf("garbage ratio %v after deleting 3/4", r)
	}

	// Writes to another collection go on while the vacuum runs.
	assignOK(t, m.addr, url.Values{"collection": {"live"}})
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	var writes int
	var writeErrs []error
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			a, err := c.Assign(ctx, client.AssignOptions{Collection: "live"})
			if err == nil {
				_, err = c.Upload(ctx, a.URL, a.Fid, []byte(fmt.Sprint("live ", i)), client.UploadOptions{})
			}
			mu.Lock()
			if err != nil {
				writeErrs = append(writeErrs, err)
			} else {
				writes++
			}
			mu.Unlock()
		}
	}()

	written := func() int { mu.Lock(); defer mu.Unlock(); return writes }
	waitFor(t, 10*time.Second, "writes to the other collection", func() bool { return written() > 0 })
	resp, b = get(t, m.addr, "/vol/vacuum", url.Values{"garbageThreshold": {"0.3"}})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/vol/vacuum: %d %s", resp.StatusCode, b)
	}
	decode[dirStatus](t, b)
	waitFor(t, 20*time.Second, "compaction of the volume", func() bool {
		return vol.Info().CompactionRevision > before.CompactionRevision && m.VacuumRuns() > 0
	})
	n := written()
	waitFor(t, 10*time.Second, "more writes after the vacuum", func() bool { return written() > n })
	close(stop)
	wg.Wait()

	after := vol.Info()
	if vol.GarbageRatio() > 0.01 || after.Size >= before.Size || after.DeleteCount != 0 {
		t.Fatalf("after vacuum: ratio %v, size %d -> %d, deletes %d", vol.GarbageRatio(), before.Size, after.Size, after.DeleteCount)
	}
	for _, fid := range fids[:10] {
		got, _, err := c.Read(ctx, fid, client.ReadOptions{})
		if err != nil || !bytes.Equal(got, blob) {
			t.Fatalf("read %s after vacuum: %v", fid, err)
		}
	}
	if _, _, err := c.Read(ctx, fids[20], client.ReadOptions{}); err == nil {
		t.Fatalf("deleted %s readable after vacuum", fids[20])
	}
	mu.Lock()
	defer mu.Unlock()
	if len(writeErrs) > 0 || writes == 0 {
		t.Fatalf("writes to other volumes during vacuum: %d ok, errors %v", writes, writeErrs)
	}
	// The compacted volume takes assigns again.
	a := assignOK(t, m.addr, url.Values{"collection": {"vac"}})
	if id, _ := needle.ParseFileID(a.Fid); id.VolumeID != fid0.VolumeID {
		t.Fatalf("assign after vacuum went to volume %d, want %d", id.VolumeID, fid0.VolumeID)
	}

	// Below the threshold nothing is compacted.
	rev := vol.Info().CompactionRevision
	runs := m.VacuumRuns()
	get(t, m.addr, "/vol/vacuum", nil)
	waitFor(t, 10*time.Second, "second vacuum run", func() bool { return m.VacuumRuns() > runs })
	if vol.Info().CompactionRevision != rev {
		t.Fatal("a clean volume was compacted")
	}
	resp, b = get(t, m.addr, "/vol/vacuum", url.Values{"garbageThreshold": {"lots"}})
	wantError(t, resp, b, http.StatusNotAcceptable, "garbageThreshold")
}
