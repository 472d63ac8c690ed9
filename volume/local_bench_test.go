package volume

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
	"time"

	"weedfs.dev/weed/client"
	"weedfs.dev/weed/client/localput"
	"weedfs.dev/weed/internal/cputime"
	"weedfs.dev/weed/storage/needle"
)

// BenchmarkChunkUpload is the mount's write path into a volume server on
// the same host, one writer of 4 MiB chunks as one file's upload: each
// iteration stores one chunk as a raw PUT over loopback TCP
// (client.ChunkWriter.Put), one through the shared-memory socket
// (PutFrom) that the server checksums, and one through the socket with
// the client's CRC, in rotating order, into the same volume, so all meet
// the same page cache and machine load. It reports the CPU of client and
// server together (one process) per chunk of each kind, and the ratios
// local-x-put and crc-x-local. The mount sums each write's bytes right
// after copying them into its buffer, while they are in cache: that cost
// is measured apart, as summing a 128 KiB piece (a FUSE write) that
// stays in cache, per 4 MiB (crc-hot-µs/chunk), and included in
// local-crc-cpu-µs/chunk.
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
	// The client's sums, as the mount has them when it uploads.
	sums := [2]uint32{needle.CRC(a.Bytes()[:size]), needle.CRC(a.Bytes()[size : 2*size])}
	const (
		put = iota
		local
		localCRC
	)
	var spent [3]time.Duration
	key := 0
	upload := func(kind, i int) {
		key++
		data := a.Bytes()[(i%2)*size : (i%2+1)*size]
		fid := fmt.Sprintf("1,%x%08x", key, 0x12345678)
		c0 := cputime.Process()
		var err error
		switch kind {
		case put:
			_, err = w.Put(context.Background(), server, fid, data, client.UploadOptions{})
		case local:
			_, err = w.PutFrom(context.Background(), server, fid, a, data, nil, client.UploadOptions{})
		case localCRC:
			_, err = w.PutFrom(context.Background(), server, fid, a, data, &sums[i%2], client.UploadOptions{})
		}
		spent[kind] += cputime.Process() - c0
		if err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(3 * size)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for k := range 3 {
			upload((i+k)%3, i)
		}
	}
	b.StopTimer()
	if w.LocalPuts() != uint64(2*b.N) {
		b.Fatalf("%d of %d chunks went through the socket", w.LocalPuts(), 2*b.N)
	}
	hot := hotSumCost(a.Bytes()[:128<<10], size)
	per := func(d time.Duration) float64 { return float64(d.Microseconds()) / float64(b.N) }
	putCPU, localCPU, crcCPU := per(spent[put]), per(spent[local]), per(spent[localCRC])+float64(hot.Microseconds())
	b.ReportMetric(putCPU, "put-cpu-µs/chunk")
	b.ReportMetric(localCPU, "local-cpu-µs/chunk")
	b.ReportMetric(crcCPU, "local-crc-cpu-µs/chunk")
	b.ReportMetric(float64(hot.Microseconds()), "crc-hot-µs/chunk")
	b.ReportMetric(localCPU/putCPU, "local-x-put")
	b.ReportMetric(crcCPU/localCPU, "crc-x-local")
}

// hotSumCost is the time to sum size bytes as pieces of len(piece) that
// are in cache (the median of a few rounds).
func hotSumCost(piece []byte, size int) time.Duration {
	needle.CRC(piece) // into cache
	var rounds [5]time.Duration
	var crc uint32
	for r := range rounds {
		t0 := time.Now()
		for range size / len(piece) {
			crc = needle.UpdateCRC(crc, piece)
		}
		rounds[r] = time.Since(t0)
	}
	slices.Sort(rounds[:])
	return rounds[len(rounds)/2]
}
