package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// Cluster is a running 3-node cluster of one Raft implementation.
type Cluster interface {
	// Name of the implementation, for the table.
	Name() string
	// Propose commits cmd through the current leader and returns once it is
	// applied there; it follows leader changes.
	Propose(ctx context.Context, cmd []byte) error
	// KillLeader cuts the leader off abruptly (its network is closed, no
	// clean hand-over) and returns its id.
	KillLeader() (string, error)
	// ElectionTimeout is the configured (minimum) election timeout.
	ElectionTimeout() time.Duration
	Close() error
}

// Result of one load run.
type Result struct {
	Impl       string
	Proposers  int
	Commits    int
	Elapsed    time.Duration
	P50, P99   time.Duration
	Failed     int
	CommitsSec float64
}

// CommandSize is the size of every proposed command.
const CommandSize = 64

// RunLoad proposes 64-byte commands from proposers goroutines for d and
// measures commits per second and latency percentiles.
func RunLoad(c Cluster, proposers int, d time.Duration) Result {
	var wg sync.WaitGroup
	lat := make([][]time.Duration, proposers)
	var failed atomic.Int64
	deadline := time.Now().Add(d)
	start := time.Now()
	for p := 0; p < proposers; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := make([]byte, CommandSize)
			for i := 0; time.Now().Before(deadline); i++ {
				copy(cmd, fmt.Sprintf("p%03d-%012d", p, i))
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				t0 := time.Now()
				err := c.Propose(ctx, cmd)
				cancel()
				if err != nil {
					failed.Add(1)
					continue
				}
				lat[p] = append(lat[p], time.Since(t0))
			}
		}()
	}
	wg.Wait()
	return summarize(c.Name(), proposers, lat, time.Since(start), int(failed.Load()))
}

func summarize(impl string, proposers int, lat [][]time.Duration, elapsed time.Duration, failed int) Result {
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	r := Result{Impl: impl, Proposers: proposers, Commits: len(all), Elapsed: elapsed, Failed: failed}
	if len(all) > 0 {
		r.P50 = all[len(all)/2]
		r.P99 = all[len(all)*99/100]
	}
	r.CommitsSec = float64(r.Commits) / elapsed.Seconds()
	return r
}

// Failover kills the leader while one proposer keeps proposing and returns
// the time from the kill to the next commit.
func Failover(c Cluster) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := make([]byte, CommandSize)
	if err := c.Propose(ctx, cmd); err != nil {
		return 0, fmt.Errorf("commit before the kill: %w", err)
	}
	if _, err := c.KillLeader(); err != nil {
		return 0, err
	}
	killed := time.Now()
	for ctx.Err() == nil {
		short, cancelShort := context.WithTimeout(ctx, time.Second)
		err := c.Propose(short, cmd)
		cancelShort()
		if err == nil {
			return time.Since(killed), nil
		}
	}
	return 0, errors.New("no commit within 10s of killing the leader")
}

// Table formats results as the comparison table.
func Table(w io.Writer, results []Result, failovers map[string]time.Duration, timeouts map[string]time.Duration) {
	fmt.Fprintf(w, "%-10s %10s %12s %10s %10s %8s\n", "impl", "proposers", "commits/s", "p50", "p99", "failed")
	for _, r := range results {
		fmt.Fprintf(w, "%-10s %10d %12.0f %10s %10s %8d\n", r.Impl, r.Proposers, r.CommitsSec,
			r.P50.Round(10*time.Microsecond), r.P99.Round(10*time.Microsecond), r.Failed)
	}
	// weed's commits/s over hashicorp's at each proposer count.
	byKey := map[string]float64{}
	for _, r := range results {
		byKey[fmt.Sprintf("%s/%d", r.Impl, r.Proposers)] = r.CommitsSec
	}
	for _, r := range results {
		if r.Impl != "weed" {
			continue
		}
		if hc := byKey[fmt.Sprintf("hashicorp/%d", r.Proposers)]; hc > 0 {
			fmt.Fprintf(w, "weed/hashicorp commits/s at %d proposers: %.2fx\n", r.Proposers, r.CommitsSec/hc)
		}
	}
	names := make([]string, 0, len(failovers))
	for n := range failovers {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "%-10s leader killed -> next commit: %v (election timeout %v)\n", n,
			failovers[n].Round(time.Millisecond), timeouts[n])
	}
}

// WaitLeader returns once the cluster has committed one command.
func WaitLeader(c Cluster) error {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := c.Propose(ctx, make([]byte, CommandSize)); err != nil {
		return fmt.Errorf("%s: no leader: %w", c.Name(), err)
	}
	return nil
}

// runN proposes n commands in total from proposers goroutines.
func runN(c Cluster, proposers, n int) Result {
	var next atomic.Int64
	var wg sync.WaitGroup
	lat := make([][]time.Duration, proposers)
	var failed atomic.Int64
	start := time.Now()
	for p := 0; p < proposers; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := make([]byte, CommandSize)
			for i := next.Add(1); i <= int64(n); i = next.Add(1) {
				copy(cmd, fmt.Sprintf("p%03d-%012d", p, i))
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				t0 := time.Now()
				err := c.Propose(ctx, cmd)
				cancel()
				if err != nil {
					failed.Add(1)
					continue
				}
				lat[p] = append(lat[p], time.Since(t0))
			}
		}()
	}
	wg.Wait()
	return summarize(c.Name(), proposers, lat, time.Since(start), int(failed.Load()))
}
