package storage

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"weedfs.dev/weed/internal/cputime"
	"weedfs.dev/weed/storage/needle"
	"weedfs.dev/weed/storage/vfs"
)

func BenchmarkVolumeWrite(b *testing.B) {
	for _, size := range []int{1 << 10, 64 << 10} {
		b.Run(fmt.Sprintf("%dKiB", size>>10), func(b *testing.B) {
			v := mustCreate(b, vfs.Default(), b.TempDir(), VolumeOptions{})
			defer v.Close()
			data := testData(size, 1)
			ctx := context.Background()
			b.SetBytes(int64(size))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				n := &needle.Needle{ID: uint64(i + 1), Cookie: 1, Data: data}
				if _, err := v.Write(ctx, n, WriteOptions{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkVolumeRead(b *testing.B) {
	const needles = 20000
	v := mustCreate(b, vfs.Default(), b.TempDir(), VolumeOptions{})
	defer v.Close()
	data := testData(1<<10, 1)
	ctx := context.Background()
	for k := uint64(1); k <= needles; k++ {
		if _, err := v.Write(ctx, &needle.Needle{ID: k, Cookie: 7, Data: data}, WriteOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	var seed atomic.Uint64
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		r := rand.New(rand.NewPCG(seed.Add(1), 3))
		for pb.Next() {
			n, err := v.Read(ctx, uint64(r.IntN(needles)+1), 7, ReadOptions{})
			if err != nil || len(n.Data) != len(data) {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkVolumeWriteFsync measures durable 1 KiB writes from 1 and from
// 16 concurrent writers; syncs/op shows how many writes share one sync.
func BenchmarkVolumeWriteFsync(b *testing.B) {
	for _, writers := range []int{1, 16} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			fs := &syncCountFS{FS: vfs.Default()}
			v := mustCreate(b, fs, b.TempDir(), VolumeOptions{})
			defer v.Close()
			data := testData(1<<10, 1)
			ctx := context.Background()
			var key atomic.Uint64
			fs.syncs.Store(0)
			b.SetBytes(int64(len(data)))
			b.ResetTimer()
			write := func() {
				n := &needle.Needle{ID: key.Add(1), Cookie: 1, Data: data}
				if _, err := v.Write(ctx, n, WriteOptions{Fsync: true}); err != nil {
					b.Error(err)
				}
			}
			if writers == 1 {
				for i := 0; i < b.N; i++ {
					write()
				}
			} else {
				b.SetParallelism((writers + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						write()
					}
				})
			}
			b.ReportMetric(float64(fs.syncs.Load())/float64(b.N), "syncs/op")
		})
	}
}

// BenchmarkCompact copies 20000 needles of 1 KiB, half of them deleted;
// bytes are those of the volume before compaction.
func BenchmarkCompact(b *testing.B) {
	const needles = 20000
	ctx := context.Background()
	data := testData(1<<10, 1)
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		v := mustCreate(b, vfs.Default(), b.TempDir(), VolumeOptions{})
		for k := uint64(1); k <= needles; k++ {
			if _, err := v.Write(ctx, &needle.Needle{ID: k, Cookie: 1, Data: data}, WriteOptions{}); err != nil {
				b.Fatal(err)
			}
			if k%2 == 0 {
				if _, err := v.Delete(ctx, k, 1, DeleteOptions{}); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.SetBytes(v.Info().Size)
		b.StartTimer()
		if err := v.Compact(ctx); err != nil {
			b.Fatal(err)
		}
		if err := v.CommitCompact(ctx); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		v.Close()
	}
}

// BenchmarkVolumeOpen opens a volume of 100000 needles: load the .idx,
// check its tail against .dat.
func BenchmarkVolumeOpen(b *testing.B) {
	const needles = 100000
	dir := b.TempDir()
	v := mustCreate(b, vfs.Default(), dir, VolumeOptions{})
	ctx := context.Background()
	data := testData(100, 1)
	for k := uint64(1); k <= needles; k++ {
		if _, err := v.Write(ctx, &needle.Needle{ID: k, Cookie: 1, Data: data}, WriteOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	v.Close()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		v := mustOpen(b, vfs.Default(), dir, VolumeOptions{})
		b.StopTimer()
		v.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(needles)*float64(b.N)/b.Elapsed().Seconds(), "needles/s")
}

// BenchmarkVolumeWriteParallel is BenchmarkVolumeWrite from 8 goroutines.
func BenchmarkVolumeWriteParallel(b *testing.B) {
	for _, size := range []int{1 << 10, 64 << 10} {
		b.Run(fmt.Sprintf("%dKiB", size>>10), func(b *testing.B) {
			v := mustCreate(b, vfs.Default(), b.TempDir(), VolumeOptions{})
			defer v.Close()
			data := testData(size, 1)
			ctx := context.Background()
			var key atomic.Uint64
			b.SetBytes(int64(size))
			b.SetParallelism(4)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					n := &needle.Needle{ID: key.Add(1), Cookie: 1, Data: data}
					if _, err := v.Write(ctx, n, WriteOptions{}); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// BenchmarkVolumeWriteAligned writes 4 MiB needles from a source placed at
// the same offset modulo 64 as the data's place in .dat (NextDataOffset),
// and from one 20 bytes off that: the kernel's copy into the page cache
// is the main cost of a large write, and a mutually misaligned one is the
// slower. Every 64 needles the volume is removed and made again, so its
// page cache is freed and reused while warm: on a virtual machine that
// hands free memory back to its host, memory touched for the first time
// costs more than the copy, and the figure would be that instead.
//
//	go test -run XXX -bench VolumeWriteAligned -benchtime 200x ./storage
func BenchmarkVolumeWriteAligned(b *testing.B) {
	const size = 4 << 20
	for _, c := range []struct {
		name  string
		shift int
	}{{"aligned", 0}, {"misaligned", 20}} {
		b.Run(c.name, func(b *testing.B) {
			dir := b.TempDir()
			v := mustCreate(b, vfs.Default(), dir, VolumeOptions{})
			defer func() { v.Close() }()
			backing := testData(size+2*cacheLine, 1)
			ctx := context.Background()
			b.SetBytes(size)
			var cpu time.Duration // of the writes alone
			crcs := map[int]uint32{}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if i%64 == 63 {
					b.StopTimer()
					v.Close()
					if err := os.RemoveAll(dir); err != nil {
						b.Fatal(err)
					}
					if err := os.Mkdir(dir, 0o755); err != nil {
						b.Fatal(err)
					}
					v = mustCreate(b, vfs.Default(), dir, VolumeOptions{})
					b.StartTimer()
				}
				at := alignedShift(backing, v.NextDataOffset()) + c.shift
				n := &needle.Needle{ID: uint64(i + 1), Cookie: 1, Data: backing[at : at+size]}
				// The server checksums a body as it arrives: so here, outside.
				crc, ok := crcs[at]
				if !ok {
					b.StopTimer()
					crc = needle.CRC(n.Data)
					crcs[at] = crc
					b.StartTimer()
				}
				c0 := cputime.Process()
				if _, err := v.Write(ctx, n, WriteOptions{DataCRC: &crc}); err != nil {
					b.Fatal(err)
				}
				cpu += cputime.Process() - c0
			}
			b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/op")
		})
	}
}

const cacheLine = 64

// alignedShift is the index in b whose address is off modulo cacheLine.
func alignedShift(b []byte, off int64) int {
	addr := int64(uintptr(unsafe.Pointer(unsafe.SliceData(b))))
	return int(((off-addr)%cacheLine + cacheLine) % cacheLine)
}

// BenchmarkVolumeWriteStream appends 2 GiB in 4 MiB needles while another
// goroutine syncs the volume every 64 MiB appended (what a mount asks of a
// volume server while it writes a large file), and reports the CPU the
// whole takes per GiB. Nearly all of it is the kernel's copy into the page
// cache, and its cost depends on the memory the kernel hands out: the
// first run of a process, into memory not used for a while (which this
// virtual machine's host takes back), took 1.37 CPU-s per GiB, the next
// runs, which reuse the page cache the last one freed (the file is
// removed between runs), 0.27-0.37. Run it with -count 3 or more and read
// the runs apart.
//
//	go test -run XXX -bench VolumeWriteStream -benchtime 1x -count 3 ./storage
func BenchmarkVolumeWriteStream(b *testing.B) {
	const size, total, syncEvery = 4 << 20, 2 << 30, 64 << 20
	data := testData(size, 5)
	crc := needle.CRC(data)
	b.SetBytes(total)
	var cpu time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		dir := b.TempDir()
		v := mustCreate(b, vfs.Default(), dir, VolumeOptions{})
		kick := make(chan struct{}, 1)
		synced := make(chan error, 1)
		go func() {
			var err error
			for range kick {
				err = errors.Join(err, v.Sync())
			}
			synced <- err
		}()
		ctx := context.Background()
		b.StartTimer()
		c0 := cputime.Process()
		for j := 0; j < total/size; j++ {
			n := &needle.Needle{ID: uint64(j + 1), Cookie: 1, Data: data}
			if _, err := v.Write(ctx, n, WriteOptions{DataCRC: &crc}); err != nil {
				b.Fatal(err)
			}
			if (j+1)%(syncEvery/size) == 0 {
				select {
				case kick <- struct{}{}:
				default:
				}
			}
		}
		close(kick)
		if err := <-synced; err != nil {
			b.Fatal(err)
		}
		if err := v.Sync(); err != nil {
			b.Fatal(err)
		}
		cpu += cputime.Process() - c0
		b.StopTimer()
		v.Close()
		if err := os.RemoveAll(dir); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.ReportMetric(cpu.Seconds()/float64(b.N)*float64(1<<30)/total, "cpu-s/GiB")
}
