package sim

import (
	"flag"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var (
	seedsFlag = flag.Int("sim.seeds", 2000, "number of seeds TestSimulation runs")
	startFlag = flag.Int64("sim.start", 0, "first seed TestSimulation runs")
	seedFlag  = flag.Int64("sim.seed", -1, "run only this seed (replay)")
	traceFlag = flag.Bool("sim.trace", false, "print the event trace of -sim.seed")
)

// TestSimulation runs many seeds of the simulation; any failure prints the
// seed and the command that replays it with its trace.
func TestSimulation(t *testing.T) {
	if *seedFlag >= 0 {
		opts := Options{Seed: *seedFlag}
		if *traceFlag {
			opts.Trace = os.Stdout
		}
		res, err := Run(opts)
		if err != nil {
			t.Fatalf("seed %d: %v", *seedFlag, err)
		}
		t.Logf("seed %d: %+v", *seedFlag, res)
		return
	}
	start := time.Now()
	n := int64(*seedsFlag)
	var next, failed atomic.Int64
	var total Result
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				seed := next.Add(1) - 1 + *startFlag
				if seed >= n+*startFlag || failed.Load() >= 5 {
					return
				}
				res, err := Run(Options{Seed: seed})
				if err != nil {
					failed.Add(1)
					t.Errorf("seed %d failed: %v\nreplay: go test -count=1 -run 'TestSimulation$' ./raft/sim/ -sim.seed=%d -sim.trace", seed, err, seed)
					continue
				}
				mu.Lock()
				total.Ops += res.Ops
				total.Crashes += res.Crashes
				total.ConfChanges += res.ConfChanges
				total.Commits += res.Commits
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	t.Logf("%d seeds from %d in %v: %d client ops, %d commits, %d crashes, %d conf changes",
		n, *startFlag, time.Since(start).Round(time.Millisecond), total.Ops, total.Commits, total.Crashes, total.ConfChanges)
}
