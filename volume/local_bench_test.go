package volume

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"

	"weedfs.dev/weed/client"
	"weedfs.dev/weed/client/localput"
	"weedfs.dev/weed/internal/cputime"
)

// BenchmarkChunkUpload is the mount's write path into a volume server on
// the same host, one writer of 4 MiB chunks as one file's upload: "put"
// is the raw PUT over loopback TCP (client.ChunkWriter.Put), "local" the
// same chunks through the shared-memory socket (PutFrom). Both report the
// CPU of client and server together per chunk (one process); "local" also
// reports x-put, its CPU as a fraction of put's in the same run.
//
//	go test -run XXX -bench ChunkUpload -benchtime 64x -count 3 ./volume
func BenchmarkChunkUpload(b *testing.B) {
	if !localput.Supported {
		b.Skip("same-host uploads need Linux")
	}
	const size = 4 << 20
	var putCPU float64
	for _, mode := range []string{"put", "local"} {
		b.Run(mode, func(b *testing.B) {
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
			if mode == "local" {
				ctx, cancel := context.WithCancel(context.Background())
				done := make(chan struct{})
				socket := LocalPath(dir, 1)
				go func() { s.ServeLocal(ctx, socket); close(done) }()
				defer func() { cancel(); <-done }()
				for s.localPath.Load() == nil {
					runtime.Gosched()
				}
			}
			server := s.url[len("http://"):]
			b.SetBytes(size)
			b.ResetTimer()
			cpu0 := cputime.Process()
			for i := 0; i < b.N; i++ {
				data := a.Bytes()[(i%2)*size : (i%2+1)*size]
				fid := fmt.Sprintf("1,%x%08x", i+1, 0x12345678)
				if mode == "local" {
					_, err = w.PutFrom(context.Background(), server, fid, a, data, client.UploadOptions{})
				} else {
					_, err = w.Put(context.Background(), server, fid, data, client.UploadOptions{})
				}
				if err != nil {
					b.Fatal(err)
				}
			}
			cpu := float64((cputime.Process() - cpu0).Microseconds()) / float64(b.N)
			b.StopTimer()
			if mode == "local" && w.LocalPuts() != uint64(b.N) {
				b.Fatalf("%d of %d chunks went through the socket", w.LocalPuts(), b.N)
			}
			b.ReportMetric(cpu, "cpu-µs/op")
			if mode == "put" {
				putCPU = cpu
			} else if putCPU > 0 {
				b.ReportMetric(cpu/putCPU, "x-put")
			}
		})
	}
}
