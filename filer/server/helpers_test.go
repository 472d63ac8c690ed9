package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"weedfs.dev/weed/filer"
	"weedfs.dev/weed/filer/filertest"
	"weedfs.dev/weed/filer/server"
)

// env is a filer served on a loopback port over a real cluster.
type env struct {
	t       testing.TB
	cluster *filertest.Cluster
	store   filer.Store
	filer   *filer.Filer
	srv     *server.Server
	addr    string
	url     string
}

// newStoreFunc makes a fresh store for one test.
type newStoreFunc func(t testing.TB) filer.Store

// startFiler serves a filer over store on a fresh cluster (or c when set).
func startFiler(t testing.TB, c *filertest.Cluster, store filer.Store, opt filer.Options) *env {
	t.Helper()
	if c == nil {
		c = filertest.Start(t, 1, 16)
	}
	if opt.ChunkSize == 0 {
		opt.ChunkSize = 256 << 10
	}
	if opt.DeleteRetry == 0 {
		opt.DeleteRetry = 50 * time.Millisecond
	}
	opt.Logger = filertest.Logger()
	f := filer.New(store, c.Client, opt)
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan struct{})
	go func() { f.Run(ctx); close(ran) }()
	s := server.New(server.Config{Filer: f, Logger: filertest.Logger()})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: s.Handler()}
	go hs.Serve(ln)
	t.Cleanup(func() {
		s.Close()
		hs.Close()
		cancel()
		<-ran
		f.Close()
	})
	return &env{t: t, cluster: c, store: store, filer: f, srv: s, addr: ln.Addr().String(), url: "http://" + ln.Addr().String()}
}

var httpClient = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}}

// do sends one request and returns the response with its body read.
func (e *env) do(method, path string, body io.Reader, hdr ...string) (*http.Response, []byte) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.url+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp, b
}

func (e *env) put(path string, body []byte, hdr ...string) (*http.Response, []byte) {
	e.t.Helper()
	return e.do(http.MethodPut, path, bytes.NewReader(body), hdr...)
}

func (e *env) mustPut(path string, body []byte, hdr ...string) {
	e.t.Helper()
	if resp, b := e.put(path, body, hdr...); resp.StatusCode != http.StatusCreated {
		e.t.Fatalf("PUT %s: %d %s", path, resp.StatusCode, b)
	}
}

func (e *env) metadata(path string) *filer.Entry {
	e.t.Helper()
	resp, b := e.do(http.MethodGet, path+"?metadata=true", nil)
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("metadata %s: %d %s", path, resp.StatusCode, b)
	}
	var en filer.Entry
	if err := json.Unmarshal(b, &en); err != nil {
		e.t.Fatalf("metadata %s: %v in %s", path, err, b)
	}
	return &en
}

// wantError checks the status and the {"error"} JSON body.
func wantError(t testing.TB, what string, resp *http.Response, body []byte, status int, substr string) {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("%s: status %d, want %d; body %s", what, resp.StatusCode, status, body)
	}
	var e struct {
		Error string `json:"error"`
	}
	if err := json.Unmarshal(body, &e); err != nil || e.Error == "" {
		t.Fatalf("%s: body %q is not {\"error\": ...}", what, body)
	}
	if !strings.Contains(e.Error, substr) {
		t.Fatalf("%s: error %q does not contain %q", what, e.Error, substr)
	}
}

func randomBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := 0; i+8 <= n; i += 8 {
		v := r.Uint64()
		for j := range 8 {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	for i := n &^ 7; i < n; i++ {
		b[i] = byte(r.Uint32())
	}
	return b
}

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

// unsettledFids lists the fids that the filer's reservation records in
// store hold and no entry was marked as holding (filer/reserve.go): fids
// of uploads in flight or cut off, and fids never used. Every such fid
// must end up not stored once the filer (or its next life) settles them.
func unsettledFids(t testing.TB, store filer.Store) []string {
	t.Helper()
	ctx := context.Background()
	marked := map[string]bool{}
	err := store.KvScan(ctx, []byte("uu/"), nil, 0, func(k, _ []byte) bool {
		marked[string(k[bytes.LastIndexByte(k, '/')+1:])] = true
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	err = store.KvScan(ctx, []byte("up/"), nil, 0, func(_, v []byte) bool {
		for _, fid := range strings.Split(string(v), "\n") {
			if !marked[fid] {
				out = append(out, fid)
			}
		}
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
