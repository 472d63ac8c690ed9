package cmd

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"weedfs.dev/weed/client"
)

type benchFlags struct {
	master, collection, replication, list, disk string
	concurrency, n, size, assignBatch           int
	readOnly, writeOnly, fsync                  bool
	deletePercent                               int
	cpuProfile                                  string
}

func benchmarkCommand() *Command {
	c := &Command{Name: "benchmark", Short: "measure write and read throughput of a cluster over its HTTP API", Usage: "[flags]"}
	c.Run = func(ctx context.Context, env *Env, args []string) error {
		var f benchFlags
		fs := newFlagSet(env, c)
		fs.StringVar(&f.master, "master", "localhost:9333", "comma-separated master addresses")
		fs.IntVar(&f.concurrency, "c", 16, "concurrent requests")
		fs.IntVar(&f.n, "n", 1024*1024, "files to write, and reads to make, in total")
		fs.IntVar(&f.size, "size", 1024, "file size in bytes (each gets 0-63 random bytes more)")
		fs.StringVar(&f.collection, "collection", "benchmark", "collection to write to")
		fs.StringVar(&f.replication, "replication", "000", "replica placement")
		fs.StringVar(&f.disk, "disk", "", "disk type")
		fs.BoolVar(&f.fsync, "fsync", false, "ask the volume servers to fsync each write")
		fs.IntVar(&f.assignBatch, "assignBatch", 1, "file ids per /dir/assign (count=N)")
		fs.BoolVar(&f.readOnly, "readOnly", false, "only read the files listed in -list")
		fs.BoolVar(&f.writeOnly, "writeOnly", false, "only write")
		fs.IntVar(&f.deletePercent, "deletePercent", 0, "percent of written files to delete")
		fs.StringVar(&f.list, "list", filepath.Join(os.TempDir(), "benchmark_list.txt"), "file of written fids, read by the read phase")
		fs.StringVar(&f.cpuProfile, "cpuprofile", "", "write a CPU profile of the benchmark client itself to this file")
		if err := parseFlags(fs, args, false); err != nil {
			return err
		}
		if f.cpuProfile != "" {
			pf, err := os.Create(f.cpuProfile)
			if err != nil {
				return fmt.Errorf("cpu profile: %w", err)
			}
			defer pf.Close()
			if err := pprof.StartCPUProfile(pf); err != nil {
				return fmt.Errorf("cpu profile: %w", err)
			}
			defer pprof.StopCPUProfile()
		}
		if f.concurrency < 1 || f.n < 1 || f.size < 0 || f.assignBatch < 1 || f.deletePercent < 0 || f.deletePercent > 100 {
			return fmt.Errorf("-c, -n and -assignBatch must be positive, -size non-negative, -deletePercent 0-100")
		}
		if f.readOnly && f.writeOnly {
			return fmt.Errorf("-readOnly and -writeOnly exclude each other")
		}
		cl := client.New(splitList(f.master), client.Options{})
		if !f.readOnly {
			if err := benchWrite(ctx, env, cl, &f); err != nil {
				return err
			}
		}
		if !f.writeOnly {
			return benchRead(ctx, env, cl, &f)
		}
		return nil
	}
	return c
}

// benchStats collects per-request latencies and byte counts.
type benchStats struct {
	mu        sync.Mutex
	latencies []time.Duration
	bytes     atomic.Int64
	failed    atomic.Int64
}

func (s *benchStats) add(d time.Duration, n int) {
	s.bytes.Add(int64(n))
	s.mu.Lock()
	s.latencies = append(s.latencies, d)
	s.mu.Unlock()
}

// fidSource hands out file ids, one assign per batch.
type fidSource struct {
	cl    *client.Client
	opts  client.AssignOptions
	batch int

	mu   sync.Mutex
	cur  *client.Assignment
	left int
	next int
}

func (s *fidSource) take(ctx context.Context) (fid, url, auth string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.left == 0 {
		opts := s.opts
		opts.Count = uint64(s.batch)
		a, err := s.cl.Assign(ctx, opts)
		if err != nil {
			return "", "", "", err
		}
		s.cur, s.left, s.next = a, int(max(a.Count, 1)), 0
	}
	fid = s.cur.Fid
	if s.next > 0 {
		fid += "_" + strconv.Itoa(s.next)
	}
	s.next++
	s.left--
	return fid, s.cur.URL, s.cur.Auth, nil
}

func benchWrite(ctx context.Context, env *Env, cl *client.Client, f *benchFlags) error {
	list, err := os.Create(f.list)
	if err != nil {
		return fmt.Errorf("fid list: %w", err)
	}
	defer list.Close()
	lw := bufio.NewWriter(list)
	var listMu sync.Mutex

	opts := client.AssignOptions{Collection: f.collection, Replication: f.replication, DiskType: f.disk}
	ids := make(chan int, f.concurrency)
	go func() {
		defer close(ids)
		for i := 0; i < f.n; i++ {
			select {
			case ids <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	var st benchStats
	st.latencies = make([]time.Duration, 0, f.n)
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < f.concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Each worker has its own batch, as each SeaweedFS benchmark
			// worker assigns for itself.
			src := &fidSource{cl: cl, opts: opts, batch: f.assignBatch}
			rng := rand.New(rand.NewPCG(uint64(w), uint64(time.Now().UnixNano())))
			buf := make([]byte, f.size+64)
			for i := range ids {
				size := f.size + rng.IntN(64)
				data := buf[:size]
				binaryID(data, i)
				t0 := time.Now()
				fid, url, auth, err := src.take(ctx)
				if err == nil {
					_, err = cl.Upload(ctx, url, fid, data, client.UploadOptions{
						Name: "bench-" + strconv.Itoa(i), Mime: "image/bench", JWT: auth, Fsync: f.fsync})
				}
				if err != nil {
					st.failed.Add(1)
					if st.failed.Load() <= 3 {
						fmt.Fprintf(env.Stderr, "write %d: %v\n", i, err)
					}
					continue
				}
				st.add(time.Since(t0), size)
				if f.deletePercent > 0 && rng.IntN(100) < f.deletePercent {
					_ = cl.Delete(ctx, fid, auth)
					continue
				}
				listMu.Lock()
				lw.WriteString(fid + "\n")
				listMu.Unlock()
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err := lw.Flush(); err != nil {
		return err
	}
	report(env.Stdout, "Writing Benchmark", f.concurrency, elapsed, &st)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return nil
}

// binaryID writes i into the first bytes so no two files are identical.
func binaryID(b []byte, i int) {
	for j := 0; j < 8 && j < len(b); j++ {
		b[j] = byte(i >> (8 * j))
	}
}

func benchRead(ctx context.Context, env *Env, cl *client.Client, f *benchFlags) error {
	b, err := os.ReadFile(f.list)
	if err != nil {
		return fmt.Errorf("fid list: %w", err)
	}
	fids := strings.Fields(string(b))
	if len(fids) == 0 {
		return fmt.Errorf("fid list %s is empty: write first", f.list)
	}
	var st benchStats
	st.latencies = make([]time.Duration, 0, f.n)
	picks := make(chan string, f.concurrency)
	go func() {
		defer close(picks)
		rng := rand.New(rand.NewPCG(1, uint64(time.Now().UnixNano())))
		for i := 0; i < f.n; i++ {
			select {
			case picks <- fids[rng.IntN(len(fids))]:
			case <-ctx.Done():
				return
			}
		}
	}()
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < f.concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for fid := range picks {
				t0 := time.Now()
				body, _, err := cl.Open(ctx, fid, client.ReadOptions{})
				if err != nil {
					st.failed.Add(1)
					if st.failed.Load() <= 3 {
						fmt.Fprintf(env.Stderr, "read %s: %v\n", fid, err)
					}
					continue
				}
				n, err := io.Copy(io.Discard, body)
				body.Close()
				if err != nil {
					st.failed.Add(1)
					continue
				}
				st.add(time.Since(t0), int(n))
			}
		}()
	}
	wg.Wait()
	report(env.Stdout, "Randomly Reading Benchmark", f.concurrency, time.Since(start), &st)
	return ctx.Err()
}

// report prints SeaweedFS's benchmark report.
func report(w io.Writer, title string, concurrency int, elapsed time.Duration, st *benchStats) {
	lat := st.latencies
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	secs := elapsed.Seconds()
	fmt.Fprintf(w, "\n------------ %s ----------\n", title)
	fmt.Fprintf(w, "Concurrency Level:      %d\n", concurrency)
	fmt.Fprintf(w, "Time taken for tests:   %.3f seconds\n", secs)
	fmt.Fprintf(w, "Completed requests:      %d\n", len(lat))
	fmt.Fprintf(w, "Failed requests:        %d\n", st.failed.Load())
	fmt.Fprintf(w, "Total transferred:      %d bytes\n", st.bytes.Load())
	fmt.Fprintf(w, "Requests per second:    %.2f [#/sec]\n", float64(len(lat))/secs)
	fmt.Fprintf(w, "Transfer rate:          %.2f [Kbytes/sec]\n", float64(st.bytes.Load())/1024/secs)
	if len(lat) == 0 {
		return
	}
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	var sum, sq float64
	for _, d := range lat {
		sum += ms(d)
	}
	avg := sum / float64(len(lat))
	for _, d := range lat {
		sq += (ms(d) - avg) * (ms(d) - avg)
	}
	fmt.Fprintf(w, "\nConnection Times (ms)\n")
	fmt.Fprintf(w, "              min      avg        max      std\n")
	fmt.Fprintf(w, "Total:        %.1f      %.1f       %.1f      %.1f\n", ms(lat[0]), avg, ms(lat[len(lat)-1]), math.Sqrt(sq/float64(len(lat))))
	fmt.Fprintf(w, "\nPercentage of the requests served within a certain time (ms)\n")
	for _, p := range []int{50, 66, 75, 80, 90, 95, 98, 99, 100} {
		i := (len(lat)*p + 99) / 100
		i = min(max(i-1, 0), len(lat)-1)
		fmt.Fprintf(w, "  %3d%%    %6.1f ms\n", p, ms(lat[i]))
	}
}
