package server_test

import (
	"context"
	"crypto/md5"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"weedfs.dev/weed/filer"
	"weedfs.dev/weed/internal/cputime"
)

// benchSize is the file of the PUT/GET benchmarks: 1 GiB, or
// WEED_BENCH_MB MiB.
func benchSize() int64 {
	if mb, err := strconv.Atoi(os.Getenv("WEED_BENCH_MB")); err == nil && mb > 0 {
		return int64(mb) << 20
	}
	return 1 << 30
}

// patternReader yields n bytes of a cheap repeating pattern (so the
// client does not spend the benchmark's CPU making random bytes).
type patternReader struct {
	n   int64
	pat []byte
	off int
}

func newPatternReader(n int64) *patternReader {
	return &patternReader{n: n, pat: randomBytes(7, 1<<20+13)}
}

func (r *patternReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > r.n {
		p = p[:r.n]
	}
	total := 0
	for len(p) > 0 {
		k := copy(p, r.pat[r.off:])
		r.off = (r.off + k) % len(r.pat)
		p = p[k:]
		total += k
	}
	r.n -= int64(total)
	return total, nil
}

// BenchmarkFilePutGet writes then reads one large file through the HTTP
// API with the filer's chunk size set per sub-benchmark, checking MD5.
func BenchmarkFilePutGet(b *testing.B) {
	size := benchSize()
	for _, mb := range []int{4, 8, 16} {
		b.Run(fmt.Sprintf("chunk=%dMiB", mb), func(b *testing.B) {
			e := startFiler(b, nil, embeddedStore(b), filer.Options{ID: "bench", ChunkSize: int64(mb) << 20})
			h := md5.New()
			io.Copy(h, newPatternReader(size))
			want := fmt.Sprintf("%x", h.Sum(nil))
			var putTime, getTime time.Duration
			b.SetBytes(size)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				start := time.Now()
				req, _ := http.NewRequest(http.MethodPut, e.url+"/big.bin", newPatternReader(size))
				req.ContentLength = size
				resp, err := httpClient.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusCreated {
					b.Fatalf("PUT: %d", resp.StatusCode)
				}
				putTime += time.Since(start)
				start = time.Now()
				resp, err = httpClient.Get(e.url + "/big.bin")
				if err != nil {
					b.Fatal(err)
				}
				// The body's MD5 is checked against the one the filer
				// computed while storing it (TestLargeFile checks bytes);
				// hashing here would take the CPU the servers share.
				n, err := io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				getTime += time.Since(start)
				if err != nil || n != size || resp.Header.Get("ETag") != `"`+want+`"` {
					b.Fatalf("GET: %d bytes, %v, ETag %s want %s", n, err, resp.Header.Get("ETag"), want)
				}
			}
			b.StopTimer()
			mib := float64(size) / (1 << 20) * float64(b.N)
			b.ReportMetric(mib/putTime.Seconds(), "PUT-MiB/s")
			b.ReportMetric(mib/getTime.Seconds(), "GET-MiB/s")
		})
	}
}

// BenchmarkCreate4KiB creates 4 KiB files through HTTP from 16 clients.
func BenchmarkCreate4KiB(b *testing.B) {
	for _, inside := range []bool{false, true} {
		name := "blob"
		opt := filer.Options{ID: "bench"}
		if inside {
			name, opt.SaveInsideLimit = "inside-entry", 4096
		}
		b.Run(name, func(b *testing.B) {
			e := startFiler(b, nil, embeddedStore(b), opt)
			body := randomBytes(8, 4096)
			var next atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			start, cpu := time.Now(), cputime.Process()
			for c := 0; c < 16; c++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						i := next.Add(1)
						if i > int64(b.N) {
							return
						}
						req, _ := http.NewRequest(http.MethodPut, fmt.Sprintf("%s/c/d%d/f%d", e.url, i%64, i), bytesReader(body))
						resp, err := httpClient.Do(req)
						if err != nil {
							b.Error(err)
							return
						}
						io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						if resp.StatusCode != http.StatusCreated {
							b.Errorf("PUT: %d", resp.StatusCode)
							return
						}
					}
				}()
			}
			wg.Wait()
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "creates/s")
			// CPU per create (of every server in this process and the
			// clients) varies less than the rate on a shared machine.
			b.ReportMetric(float64((cputime.Process()-cpu).Microseconds())/float64(b.N), "CPU-µs/create")
		})
	}
}

// BenchmarkList100k lists a folder of 100,000 entries page by page (1000
// a page) through the JSON API. The server sends SeaweedFS's full entry
// JSON; the client decodes what a lister needs (decodeListPage).
func BenchmarkList100k(b *testing.B) {
	const n = 100000
	e := startFiler(b, nil, embeddedStore(b), filer.Options{ID: "bench"})
	ctx := context.Background()
	// Entries are made through the store directly: the benchmark is of
	// listing, and 100,000 uploads would take minutes.
	now := time.Now()
	if _, err := e.filer.Mkdir(ctx, "/big", 0); err != nil {
		b.Fatal(err)
	}
	const batch = 5000
	for i := 0; i < n; i += batch {
		err := filer.WithTx(ctx, e.store, func(ctx context.Context) error {
			for j := i; j < i+batch; j++ {
				en := &filer.Entry{FullPath: fmt.Sprintf("/big/file%06d", j), Mode: 0o644, FileSize: 4096, Mtime: now, Crtime: now,
					Chunks: []filer.Chunk{{Fid: "3,01637037d6", Size: 4096, ModifiedTsNs: now.UnixNano(), ETag: "abc"}}}
				if err := e.store.InsertEntry(ctx, en); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	cpu := cputime.Process()
	for i := 0; i < b.N; i++ {
		total, last := 0, ""
		for {
			resp, body := e.do(http.MethodGet, "/big/?limit=1000&lastFileName="+last, nil, "Accept", "application/json")
			if resp.StatusCode != http.StatusOK {
				b.Fatalf("list: %d", resp.StatusCode)
			}
			l, err := decodeListPage(body)
			if err != nil {
				b.Fatal(err)
			}
			total += len(l.Entries)
			if !l.ShouldDisplayLoadMore {
				break
			}
			last = l.LastFileName
		}
		if total != n {
			b.Fatalf("listed %d entries, want %d", total, n)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "entries/s")
	b.ReportMetric((cputime.Process()-cpu).Seconds()/float64(b.N), "CPU-s/100k")
}
