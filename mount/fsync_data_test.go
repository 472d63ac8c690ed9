package mount_test

import (
	"bytes"
	"encoding/json"
	"maps"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"weedfs.dev/weed/mount"
)

// chunkVolumes returns the volume of each chunk of the file at filer path
// p, from the filer's ?metadata=true.
func chunkVolumes(t *testing.T, filerAddr, p string) []uint32 {
	t.Helper()
	resp, err := http.Get("http://" + filerAddr + p + "?metadata=true")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s?metadata=true: HTTP %d", p, resp.StatusCode)
	}
	var e struct {
		Chunks []struct {
			Fid struct {
				VolumeID uint32 `json:"volume_id"`
			} `json:"fid"`
		} `json:"chunks"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
		t.Fatal(err)
	}
	var vids []uint32
	for _, c := range e.Chunks {
		vids = append(vids, c.Fid.VolumeID)
	}
	return vids
}

// fsync makes a file's chunks durable: every volume a chunk of it went to
// is synced on its volume server before fsync returns, and an fsync with
// nothing new written syncs nothing.
func TestFsyncSyncsChunkVolumes(t *testing.T) {
	requireFUSE(t)
	fe := newFilerEnv(t)
	dir := t.TempDir()
	o := fe.options(dir)
	o.ChunkSize = 1 << 20
	m := fe.mountAt(t, o)
	var mu sync.Mutex
	synced := map[uint32]int{}
	calls := 0
	mount.ObserveVolumeSyncs(m.FS, func(vids []uint32) {
		mu.Lock()
		defer mu.Unlock()
		calls++
		for _, v := range vids {
			synced[v]++
		}
	})
	counts := func() (int, map[uint32]int) {
		mu.Lock()
		defer mu.Unlock()
		return calls, maps.Clone(synced)
	}

	data := make([]byte, 5<<20+123)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	name := filepath.Join(dir, "durable.bin")
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(data); err != nil {
		t.Fatal(err)
	}
	if n, _ := counts(); n != 0 {
		t.Fatalf("%d volume syncs before fsync (a few MiB are below the background threshold)", n)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	n1, after := counts()
	vids := chunkVolumes(t, fe.addr, "/durable.bin")
	if len(vids) != 6 {
		t.Fatalf("file has %d chunks, want 6 of 1 MiB", len(vids))
	}
	for _, v := range vids {
		if after[v] == 0 {
			t.Errorf("volume %d holds a chunk of the file but fsync did not sync it (synced: %v)", v, after)
		}
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	if n2, _ := counts(); n2 != n1 {
		t.Errorf("fsync with nothing written synced volumes again (%d calls, then %d)", n1, n2)
	}
	more := bytes.Repeat([]byte("x"), 1<<20)
	if _, err := f.WriteAt(more, int64(len(data))); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	if n3, _ := counts(); n3 == n1 {
		t.Error("fsync after a new write synced no volume")
	}
	got, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, append(slices.Clone(data), more...)) {
		t.Fatal("file read back differs from what was written")
	}
}

// A file whose chunks an earlier mount process wrote (and never synced)
// is synced whole by its first fsync in a new mount.
func TestFsyncAfterRemountSyncsChunkVolumes(t *testing.T) {
	requireFUSE(t)
	fe := newFilerEnv(t)
	dir := t.TempDir()
	o := fe.options(dir)
	o.ChunkSize = 1 << 20
	m := fe.mountAt(t, o)
	if err := os.WriteFile(filepath.Join(dir, "old.bin"), bytes.Repeat([]byte("v"), 3<<20+5), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := m.Unmount(); err != nil {
		t.Fatal(err)
	}
	m = fe.mountAt(t, o)
	var mu sync.Mutex
	synced := map[uint32]bool{}
	mount.ObserveVolumeSyncs(m.FS, func(vids []uint32) {
		mu.Lock()
		defer mu.Unlock()
		for _, v := range vids {
			synced[v] = true
		}
	})
	f, err := os.Open(filepath.Join(dir, "old.bin"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	vids := chunkVolumes(t, fe.addr, "/old.bin")
	if len(vids) != 4 {
		t.Fatalf("file has %d chunks, want 4 of at most 1 MiB", len(vids))
	}
	mu.Lock()
	defer mu.Unlock()
	for _, v := range vids {
		if !synced[v] {
			t.Errorf("volume %d holds a chunk of the file but its first fsync in this mount did not sync it (synced: %v)", v, synced)
		}
	}
}
