package server_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"weedfs.dev/weed/filer"
	"weedfs.dev/weed/filer/server"
	"weedfs.dev/weed/internal/cputime"
	"weedfs.dev/weed/pb"
)

// BenchmarkMountSave saves small files with inline content (11 KiB, the
// mean of Go's src tree) through the mount API as a mount extracting a
// tar does: unsynced, signed, from 4 connections, into 64 folders, with
// the mount's change feed open (signed too, so it carries nothing back).
// CPU-µs/save counts the whole process: the filer and the clients.
func BenchmarkMountSave(b *testing.B) {
	e := startFiler(b, nil, embeddedStore(b), filer.Options{ID: "bench"})
	const sig = 4242
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s/internal/events?since=%d&heartbeat=1&signature=%d", e.url, time.Now().UnixNano(), sig), nil)
	resp, err := httpClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	var fed atomic.Int64
	go func() {
		defer resp.Body.Close()
		r := bufio.NewReader(resp.Body)
		for {
			ev, err := server.ReadEvent(r)
			if err != nil {
				return
			}
			if ev.NewEntry != nil || ev.OldEntry != nil {
				fed.Add(1)
			}
		}
	}()
	// Text like a source file's (compressible as Go's src is).
	var text bytes.Buffer
	for i := 0; text.Len() < 11<<10; i++ {
		fmt.Fprintf(&text, "func f%d(x int) int {\n\treturn x*%d + %d // line %d\n}\n", i, i, i*7, i)
	}
	content := text.Bytes()[:11<<10]
	url := fmt.Sprintf("%s%sentry?nosync=true&signature=%d", e.url, server.MountPrefix, sig)
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ReportAllocs()
	b.ResetTimer()
	start, cpu := time.Now(), cputime.Process()
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > int64(b.N) {
					return
				}
				m := &pb.Entry{FullPath: fmt.Sprintf("/t/d%d/f%d.go", i%64, i), Content: content,
					Attributes: &pb.FuseAttributes{FileSize: uint64(len(content)), FileMode: 0o644, Mtime: time.Now().Unix()}}
				body, _ := proto.Marshal(m)
				req, _ := http.NewRequest(http.MethodPut, url, bytes.NewReader(body))
				req.Header.Set("Content-Type", server.EntryContentType)
				resp, err := httpClient.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusNoContent {
					b.Errorf("save: %d", resp.StatusCode)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "saves/s")
	b.ReportMetric(float64((cputime.Process()-cpu).Microseconds())/float64(b.N), "CPU-µs/save")
	if n := fed.Load(); n != 0 {
		b.Fatalf("the signed feed carried %d of the bench's own events", n)
	}
}
