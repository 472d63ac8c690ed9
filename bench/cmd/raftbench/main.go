// Command raftbench compares weed's Raft library with hashicorp/raft: 3
// nodes over loopback with fsynced logs, 64-byte commands from 1, 16 and 64
// concurrent proposers, then the time from killing the leader to the next
// commit. It prints one table.
//
//	cd bench && go run ./cmd/raftbench -duration 5s
package main

import (
	"flag"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"weedfs.dev/weed/bench"
)

func main() {
	duration := flag.Duration("duration", 5*time.Second, "load time per implementation and proposer count")
	proposers := flag.String("proposers", "1,16,64", "comma-separated proposer counts")
	dir := flag.String("dir", "", "directory for the logs (default: a temporary directory on the OS temp disk)")
	impls := flag.String("impl", "weed,hashicorp", "implementations to run")
	flag.Parse()
	if err := run(*duration, *proposers, *dir, *impls); err != nil {
		fmt.Fprintln(os.Stderr, "raftbench:", err)
		os.Exit(1)
	}
}

func run(d time.Duration, proposerList, dir, implList string) error {
	var counts []int
	for _, s := range strings.Split(proposerList, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n <= 0 {
			return fmt.Errorf("bad proposer count %q", s)
		}
		counts = append(counts, n)
	}
	if dir == "" {
		tmp, err := os.MkdirTemp("", "raftbench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	var results []bench.Result
	failovers := map[string]time.Duration{}
	timeouts := map[string]time.Duration{}
	names := strings.Split(implList, ",")
	// Implementations alternate at each proposer count, so a change in the
	// machine's load hits both alike.
	for _, n := range counts {
		for _, impl := range names {
			c, err := start(impl, dir, fmt.Sprintf("%s-%d", impl, n))
			if err != nil {
				return err
			}
			if err := bench.WaitLeader(c); err != nil {
				c.Close()
				return err
			}
			r := bench.RunLoad(c, n, d)
			results = append(results, r)
			fmt.Fprintf(os.Stderr, "%s %d proposers: %.0f commits/s\n", impl, n, r.CommitsSec)
			c.Close()
		}
	}
	sort.SliceStable(results, func(i, j int) bool { return results[i].Impl > results[j].Impl })
	for _, impl := range names {
		c, err := start(impl, dir, impl+"-failover")
		if err != nil {
			return err
		}
		if err := bench.WaitLeader(c); err != nil {
			c.Close()
			return err
		}
		took, err := bench.Failover(c)
		c.Close()
		if err != nil {
			return fmt.Errorf("%s failover: %w", impl, err)
		}
		failovers[c.Name()], timeouts[c.Name()] = took, c.ElectionTimeout()
	}
	bench.Table(os.Stdout, results, failovers, timeouts)
	return nil
}

func start(impl, dir, sub string) (bench.Cluster, error) {
	path, err := os.MkdirTemp(dir, sub+"-")
	if err != nil {
		return nil, err
	}
	switch impl {
	case "weed":
		return bench.NewWeed(path)
	case "hashicorp":
		return bench.NewHashicorp(path)
	}
	return nil, fmt.Errorf("unknown implementation %q", impl)
}
