package mount_test

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"testing"
)

// A file the filer stored with manifest chunks (runs of data chunks kept
// in a blob, as SeaweedFS does for files of 10,000 chunks; here runs of 3)
// reads through the mount byte for byte, not as the manifests' bytes.
func TestReadsFileWithManifestChunks(t *testing.T) {
	requireFUSE(t)
	fe := newFilerEnvWith(t, 3)
	body := make([]byte, 7<<20+12345) // eight 1 MiB chunks
	r := rand.New(rand.NewPCG(3, 4))
	for i := range body {
		body[i] = byte(r.Uint32())
	}
	req, _ := http.NewRequest(http.MethodPut, "http://"+fe.addr+"/m/big.bin?maxMB=1", bytes.NewReader(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("PUT: %d", resp.StatusCode)
	}
	resp, err = http.Get("http://" + fe.addr + "/m/big.bin?metadata=true")
	if err != nil {
		t.Fatal(err)
	}
	var meta struct {
		Chunks []struct {
			IsChunkManifest bool `json:"is_chunk_manifest"`
		} `json:"chunks"`
	}
	err = json.NewDecoder(resp.Body).Decode(&meta)
	resp.Body.Close()
	manifests := 0
	for _, c := range meta.Chunks {
		if c.IsChunkManifest {
			manifests++
		}
	}
	if err != nil || manifests == 0 {
		t.Fatalf("the filer kept no manifest chunks (%d chunks, err %v): the test proves nothing", len(meta.Chunks), err)
	}

	dir, _ := fe.mount(t)
	got, err := os.ReadFile(filepath.Join(dir, "m", "big.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, body) {
		t.Fatalf("read %d bytes through the mount, not the %d written", len(got), len(body))
	}
}
