package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"weedfs.dev/weed/internal/testcluster"
)

// A cluster whose volume servers check write tokens (security.toml with
// [jwt.signing]): the filer of `weed server -filer` signs its chunk
// deletions, so deleting a file frees its chunks instead of leaving them
// queued forever.
func TestServerFilerSignsChunkDeletes(t *testing.T) {
	if testing.Short() {
		t.Skip("process-level test")
	}
	work := t.TempDir()
	conf := "[jwt.signing]\nkey = \"a-test-signing-key\"\n"
	if err := os.WriteFile(filepath.Join(work, "security.toml"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	mport, vport, fport := testcluster.FreePort(t), testcluster.FreePort(t), testcluster.FreePort(t)
	testcluster.StartIn(t, work, "server", "-dir", filepath.Join(work, "data"), "-master.port", strconv.Itoa(mport),
		"-volume.port", strconv.Itoa(vport), "-pulseSeconds", "1",
		"-filer", "-filer.port", strconv.Itoa(fport), "-filer.dir", filepath.Join(work, "filerdb"), "-filer.maxMB", "1")
	base := "http://127.0.0.1:" + strconv.Itoa(fport)
	vol := "http://127.0.0.1:" + strconv.Itoa(vport)
	testcluster.WaitHTTP(t, "http://127.0.0.1:"+strconv.Itoa(mport)+"/dir/assign", 200, 30*time.Second)
	testcluster.WaitHTTP(t, base+"/", 0, 30*time.Second)

	// Unsigned writes are refused: the volume server does check tokens.
	req, _ := http.NewRequest(http.MethodPut, vol+"/1,01637037d6", bytes.NewReader([]byte("x")))
	if resp, err := http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	} else if resp.Body.Close(); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("unsigned write: %d, want 401", resp.StatusCode)
	}

	body := bytes.Repeat([]byte("0123456789abcdef"), 3<<16) // 3 MiB: three chunks
	req, _ = http.NewRequest(http.MethodPut, base+"/docs/big.bin", bytes.NewReader(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("PUT: %d", resp.StatusCode)
	}
	resp, err = http.Get(base + "/docs/big.bin?metadata=true")
	if err != nil {
		t.Fatal(err)
	}
	var meta struct {
		Chunks []struct {
			FileID string `json:"file_id"`
		} `json:"chunks"`
	}
	err = json.NewDecoder(resp.Body).Decode(&meta)
	resp.Body.Close()
	if err != nil || len(meta.Chunks) != 3 {
		t.Fatalf("metadata: %v, %d chunks, want 3", err, len(meta.Chunks))
	}
	for _, c := range meta.Chunks {
		if st := status(t, vol+"/"+c.FileID); st != http.StatusOK {
			t.Fatalf("chunk %s before the delete: %d", c.FileID, st)
		}
	}

	req, _ = http.NewRequest(http.MethodDelete, base+"/docs/big.bin", nil)
	if resp, err = http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent && resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusAccepted {
		t.Fatalf("DELETE: %d", resp.StatusCode)
	}
	deadline := time.Now().Add(20 * time.Second)
	for _, c := range meta.Chunks {
		for status(t, vol+"/"+c.FileID) != http.StatusNotFound {
			if time.Now().After(deadline) {
				t.Fatalf("chunk %s still readable 20 s after its file was deleted", c.FileID)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}

func status(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// weed mount without -master asks the filer for its masters.
func TestFilerNamesItsMastersToMounts(t *testing.T) {
	if testing.Short() {
		t.Skip("process-level test")
	}
	fport := testcluster.FreePort(t)
	maddr := startServer(t, "-filer", "-filer.port", strconv.Itoa(fport))
	faddr := "127.0.0.1:" + strconv.Itoa(fport)
	testcluster.WaitHTTP(t, "http://"+faddr+"/", 0, 30*time.Second)
	got, err := filerMasters(context.Background(), faddr)
	if err != nil || len(got) != 1 || got[0] != maddr {
		t.Fatalf("filerMasters = %v, %v; want [%s]", got, err, maddr)
	}
	if _, err := filerMasters(context.Background(), "127.0.0.1:"+strconv.Itoa(testcluster.FreePort(t))); err == nil {
		t.Fatal("filerMasters of an address where nothing listens: no error")
	}
}
