package server_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"weedfs.dev/weed/filer"
	"weedfs.dev/weed/filer/server"
	"weedfs.dev/weed/pb"
)

// mountPut saves e through the mount API with the given query.
func (e *env) mountPut(query string, m *pb.Entry) *http.Response {
	e.t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		e.t.Fatal(err)
	}
	resp, body := e.do(http.MethodPut, server.MountPrefix+"entry?"+query, bytes.NewReader(b), "Content-Type", server.EntryContentType)
	if resp.StatusCode != http.StatusNoContent {
		e.t.Fatalf("mount save %s: %d %s", m.FullPath, resp.StatusCode, body)
	}
	return resp
}

// openEvents opens the change feed with the given query.
func (e *env) openEvents(ctx context.Context, query string) (*http.Response, *bufio.Reader) {
	e.t.Helper()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.url+"/internal/events?"+query, nil)
	resp, err := httpClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("events: %d", resp.StatusCode)
	}
	return resp, bufio.NewReader(resp.Body)
}

// Mount writes with signature=S record S in their events; a stream opened
// with signature=S leaves those out and keeps every other event (other
// signatures, none), for saves, renames and deletes, in order; without
// the parameter every event comes, carrying its signatures.
func TestEventsSkipSignature(t *testing.T) {
	e := startFiler(t, nil, embeddedStore(t), filer.Options{ID: "f1"})
	const me, other = 7, -12345
	since := time.Now().UnixNano()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, mine := e.openEvents(ctx, fmt.Sprintf("since=%d&signature=%d", since, me))
	_, all := e.openEvents(ctx, fmt.Sprintf("since=%d", since))

	file := func(p string) *pb.Entry {
		return &pb.Entry{FullPath: p, Content: []byte(p), Attributes: &pb.FuseAttributes{FileMode: 0o644, FileSize: uint64(len(p))}}
	}
	e.mountPut(fmt.Sprintf("signature=%d", me), file("/s/own1"))
	e.mountPut(fmt.Sprintf("signature=%d&nosync=true", other), file("/s/other1"))
	e.mountPut("", file("/s/plain1"))
	if resp, b := e.do(http.MethodPost, server.MountPrefix+fmt.Sprintf("rename?from=/s/own1&to=/s/own2&signature=%d", me), nil); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("rename: %d %s", resp.StatusCode, b)
	}
	if resp, b := e.do(http.MethodPost, server.MountPrefix+"rename?from=/s/plain1&to=/s/plain2", nil); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("rename: %d %s", resp.StatusCode, b)
	}
	if resp, b := e.do(http.MethodDelete, server.MountPrefix+fmt.Sprintf("entry?path=/s/own2&signature=%d", me), nil); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("delete: %d %s", resp.StatusCode, b)
	}
	if resp, b := e.do(http.MethodDelete, server.MountPrefix+fmt.Sprintf("entry?path=/s/other1&signature=%d", other), nil); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("delete: %d %s", resp.StatusCode, b)
	}
	e.mustPut("/s/http", []byte("x")) // the plain HTTP API signs nothing

	type change struct {
		desc string
		sigs []int32
	}
	read := func(r *bufio.Reader, n int) []change {
		var got []change
		for len(got) < n {
			ev, err := server.ReadEvent(r)
			if err != nil {
				t.Fatalf("after %v: %v", got, err)
			}
			if ev.OldEntry == nil && ev.NewEntry == nil {
				continue // heartbeat
			}
			got = append(got, change{ev.GetOldEntry().GetFullPath() + ">" + ev.GetNewEntry().GetFullPath(), ev.Signatures})
		}
		return got
	}
	// The folder /s came with the first save (signed by me).
	wantAll := []change{
		{">/s", []int32{me}}, {">/s/own1", []int32{me}}, {">/s/other1", []int32{other}}, {">/s/plain1", nil},
		{"/s/own1>/s/own2", []int32{me}}, {"/s/plain1>/s/plain2", nil},
		{"/s/own2>", []int32{me}}, {"/s/other1>", []int32{other}}, {">/s/http", nil},
	}
	gotAll := read(all, len(wantAll))
	for i := range wantAll {
		if gotAll[i].desc != wantAll[i].desc || !slices.Equal(gotAll[i].sigs, wantAll[i].sigs) {
			t.Fatalf("unfiltered stream: event %d is %v, want %v (all: %v)", i, gotAll[i], wantAll[i], gotAll)
		}
	}
	var wantMine []change
	for _, c := range wantAll {
		if !slices.Contains(c.sigs, me) {
			wantMine = append(wantMine, c)
		}
	}
	gotMine := read(mine, len(wantMine))
	for i := range wantMine {
		if gotMine[i].desc != wantMine[i].desc {
			t.Fatalf("stream skipping %d: event %d is %v, want %v (all: %v)", me, i, gotMine[i], wantMine[i], gotMine)
		}
	}

	// Bad signatures are refused, on writes and on the stream.
	for _, q := range []string{"signature=0", "signature=x", "signature=4294967296"} {
		resp, b := e.do(http.MethodGet, "/internal/events?"+q, nil)
		wantError(t, "events "+q, resp, b, http.StatusBadRequest, "signature")
		resp, b = e.do(http.MethodDelete, server.MountPrefix+"entry?path=/s/http&"+q, nil)
		wantError(t, "delete "+q, resp, b, http.StatusBadRequest, "signature")
	}
	if _, err := e.filer.FindEntry(ctx, "/s/http"); err != nil {
		t.Fatalf("a delete with a bad signature removed the entry: %v", err)
	}
}

// A mount save's body is read whole with or without a Content-Length
// (chunked), and a body cut short of its Content-Length is refused.
func TestMountSaveBodies(t *testing.T) {
	e := startFiler(t, nil, embeddedStore(t), filer.Options{ID: "f1"})
	content := randomBytes(5, 20000)
	for _, chunked := range []bool{false, true} {
		p := fmt.Sprintf("/b/chunked-%v", chunked)
		body, _ := proto.Marshal(&pb.Entry{FullPath: p, Content: content, Attributes: &pb.FuseAttributes{FileMode: 0o644, FileSize: uint64(len(content))}})
		req, _ := http.NewRequest(http.MethodPut, e.url+server.MountPrefix+"entry", bytes.NewReader(body))
		if chunked {
			req.ContentLength = -1
			req.Body = io.NopCloser(bytes.NewReader(body)) // no length known
		}
		resp, err := httpClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("save (chunked %v): %d", chunked, resp.StatusCode)
		}
		got, err := e.filer.FindEntry(context.Background(), p)
		if err != nil || !bytes.Equal(got.Content, content) {
			t.Fatalf("saved entry (chunked %v) differs: %v", chunked, err)
		}
	}
	// Content-Length 1000, 10 bytes sent, then the client stops sending.
	conn, err := net.Dial("tcp", e.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(conn, "PUT "+server.MountPrefix+"entry HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n0123456789")
	conn.(*net.TCPConn).CloseWrite()
	if resp, err := http.ReadResponse(bufio.NewReader(conn), nil); err == nil && resp.StatusCode == http.StatusNoContent {
		t.Fatal("a body cut short was saved")
	}
}
