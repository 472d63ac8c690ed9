package bench

import (
	"fmt"
	"testing"
	"time"
)

// benchmarkImpl runs b.N commands through a fresh cluster with proposers
// goroutines and reports commits/s and latency percentiles.
func benchmarkImpl(b *testing.B, start func(dir string) (Cluster, error)) {
	for _, proposers := range []int{1, 16, 64} {
		b.Run(fmt.Sprintf("proposers=%d", proposers), func(b *testing.B) {
			c, err := start(b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			if err := WaitLeader(c); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			r := runN(c, proposers, b.N)
			b.StopTimer()
			if r.Failed > 0 {
				b.Logf("%d proposals failed", r.Failed)
			}
			b.ReportMetric(r.CommitsSec, "commits/s")
			b.ReportMetric(float64(r.P50.Microseconds()), "p50-µs")
			b.ReportMetric(float64(r.P99.Microseconds()), "p99-µs")
		})
	}
}

func BenchmarkWeed(b *testing.B) {
	benchmarkImpl(b, func(dir string) (Cluster, error) { return NewWeed(dir) })
}

func BenchmarkHashicorp(b *testing.B) {
	benchmarkImpl(b, func(dir string) (Cluster, error) { return NewHashicorp(dir) })
}

// TestFailover checks both implementations elect a new leader after the
// leader is killed, and logs how long the next commit took.
func TestFailover(t *testing.T) {
	for name, start := range map[string]func(string) (Cluster, error){
		"weed":      func(d string) (Cluster, error) { return NewWeed(d) },
		"hashicorp": func(d string) (Cluster, error) { return NewHashicorp(d) },
	} {
		t.Run(name, func(t *testing.T) {
			c, err := start(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if err := WaitLeader(c); err != nil {
				t.Fatal(err)
			}
			took, err := Failover(c)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: next commit %v after killing the leader (election timeout %v)", name, took, c.ElectionTimeout())
			if name == "weed" && took > 2*c.ElectionTimeout()+200*time.Millisecond {
				t.Errorf("weed: next commit after %v, want within 2x the election timeout", took)
			}
		})
	}
}
