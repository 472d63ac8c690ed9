package server_test

import (
	"bytes"
	"net"
	"net/http"
	"testing"

	"weedfs.dev/weed/client"
	"weedfs.dev/weed/filer"
	"weedfs.dev/weed/filer/filertest"
	"weedfs.dev/weed/filer/stores/embedded"
)

func embeddedStore(t testing.TB) filer.Store {
	t.Helper()
	s, err := embedded.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformanceEmbedded(t *testing.T) { runConformance(t, embeddedStore) }

// A store that goes away turns requests into 503 {"error"} and leaves no
// entry behind; the filer works again when it is back.
func TestStoreDown(t *testing.T) {
	s := filertest.NewMemStore()
	e := startFiler(t, nil, s, filer.Options{ID: "f1"})
	e.mustPut("/before", []byte("b"))
	s.SetDown(true)
	resp, b := e.put("/during", []byte("d"))
	wantError(t, "PUT with the store down", resp, b, http.StatusServiceUnavailable, "unavailable")
	resp, b = e.do(http.MethodGet, "/before", nil)
	wantError(t, "GET with the store down", resp, b, http.StatusServiceUnavailable, "unavailable")
	resp, b = e.do(http.MethodGet, "/", nil, "Accept", "application/json")
	wantError(t, "list with the store down", resp, b, http.StatusServiceUnavailable, "unavailable")
	resp, b = e.do(http.MethodDelete, "/before", nil)
	wantError(t, "DELETE with the store down", resp, b, http.StatusServiceUnavailable, "unavailable")
	s.SetDown(false)
	if resp, _ := e.do(http.MethodHead, "/during", nil); resp.StatusCode != http.StatusNotFound {
		t.Fatal("a write refused while the store was down left an entry")
	}
	if _, got := e.do(http.MethodGet, "/before", nil); string(got) != "b" {
		t.Fatalf("/before reads %q after the store came back", got)
	}
	e.mustPut("/after", []byte("a"))
}

// A filer whose master cannot be reached answers writes of chunks with
// 503 (try again later), not 500, and writes no entry.
func TestMasterDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close() // nothing listens there any more
	c := &filertest.Cluster{Master: dead, Client: client.New([]string{dead}, client.Options{})}
	e := startFiler(t, c, filertest.NewMemStore(), filer.Options{ID: "f1"})
	resp, b := e.put("/a.bin", bytes.Repeat([]byte("x"), 4096))
	wantError(t, "PUT with the master down", resp, b, http.StatusServiceUnavailable, "master")
	if resp, _ := e.do(http.MethodHead, "/a.bin", nil); resp.StatusCode != http.StatusNotFound {
		t.Fatal("a write refused for want of a master left an entry")
	}
}
