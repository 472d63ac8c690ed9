package volume

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"weedfs.dev/weed/client"
	"weedfs.dev/weed/client/localput"
	"weedfs.dev/weed/internal/cputime"
)

// BenchmarkChunkUpload is the mount's write path into a volume server on
// the same host, one writer of 4 MiB chunks as one file's upload: each
// iteration stores one chunk as a raw PUT over loopback TCP
// (client.ChunkWriter.Put) and one through the shared-memory socket
// (PutFrom), in alternating order, into the same volume, so both meet the
// same page cache and machine load. It reports the CPU of client and
// server together (one process) per chunk of each kind, and local-x-put,
// the ratio of the two.
//
//	go test -run XXX -bench ChunkUpload -benchtime 64x -count 3 ./volume
func BenchmarkChunkUpload(b *testing.B) {
	if !localput.Supported {
		b.Skip("same-host uploads need Linux")
	}
	const size = 4 << 20
	dir := b.TempDir()
	s := startServer(b, dir, Config{})
	if _, err := s.store.AllocateVolume("", 1, superblockNone, ttlNone); err != nil {
		b.Fatal(err)
	}
	a, err := localput.NewArena(2 * size)
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	rand.NewChaCha8([32]byte{7}).Read(a.Bytes())
	w := client.NewChunkWriter(1)
	defer w.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.ServeLocal(ctx, LocalPath(dir, 1)); close(done) }()
	defer func() { cancel(); <-done }()
	for s.localPath.Load() == nil {
		runtime.Gosched()
	}
	server := s.url[len("http://"):]
	var spent [2]time.Duration // put, local
	key := 0
	upload := func(local bool, i int) {
		key++
		data := a.Bytes()[(i%2)*size : (i%2+1)*size]
		fid := fmt.Sprintf("1,%x%08x", key, 0x12345678)
		c0 := cputime.Process()
		var err error
		if local {
			_, err = w.PutFrom(context.Background(), server, fid, a, data, client.UploadOptions{})
			spent[1] += cputime.Process() - c0
		} else {
			_, err = w.Put(context.Background(), server, fid, data, client.UploadOptions{})
			spent[0] += cputime.Process() - c0
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(2 * size)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		upload(i%2 == 1, i)
		upload(i%2 == 0, i)
	}
	b.StopTimer()
	if w.LocalPuts() != uint64(b.N) {
		b.Fatalf("%d of %d chunks went through the socket", w.LocalPuts(), b.N)
	}
	put, local := float64(spent[0].Microseconds())/float64(b.N), float64(spent[1].Microseconds())/float64(b.N)
	b.ReportMetric(put, "put-cpu-µs/chunk")
	b.ReportMetric(local, "local-cpu-µs/chunk")
	b.ReportMetric(local/put, "local-x-put")
}
