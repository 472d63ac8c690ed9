package server_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"

	"weedfs.dev/weed/filer"
)

// A file kept with manifest chunks serves whole; ?metadata=true shows the
// manifest chunks and &resolveManifest=true the data chunks they list.
func TestManifestOverHTTP(t *testing.T) {
	e := startFiler(t, nil, embeddedStore(t), filer.Options{ID: "m", ChunkSize: 1 << 10, ManifestBatch: 2})
	body := randomBytes(31, 5<<10)
	e.mustPut("/big.bin", body)
	if resp, got := e.do(http.MethodGet, "/big.bin", nil); resp.StatusCode != http.StatusOK || !bytes.Equal(got, body) {
		t.Fatalf("GET: %d, %d bytes", resp.StatusCode, len(got))
	}
	chunks := func(q string) (n, manifests int) {
		resp, b := e.do(http.MethodGet, "/big.bin?metadata=true"+q, nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("metadata: %d %s", resp.StatusCode, b)
		}
		var m struct {
			Chunks []struct {
				IsManifest bool `json:"is_chunk_manifest"`
			} `json:"chunks"`
		}
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		for _, c := range m.Chunks {
			if c.IsManifest {
				manifests++
			}
		}
		return len(m.Chunks), manifests
	}
	if n, m := chunks(""); n != 3 || m != 2 {
		t.Fatalf("metadata shows %d chunks, %d manifests; want 3 and 2", n, m)
	}
	if n, m := chunks("&resolveManifest=true"); n != 5 || m != 0 {
		t.Fatalf("resolved metadata shows %d chunks, %d manifests; want 5 and 0", n, m)
	}
}
