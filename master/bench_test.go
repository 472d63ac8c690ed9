package master

import (
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"

	"weedfs.dev/weed/internal/cputime"
)

// benchClients is the number of concurrent keep-alive clients.
const benchClients = 16

// drive sends b.N GETs of u from benchClients goroutines over keep-alive
// connections and reports requests per second.
func drive(b *testing.B, u string) {
	tr := &http.Transport{MaxIdleConns: benchClients * 2, MaxIdleConnsPerHost: benchClients * 2, DisableCompression: true}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr}
	procs := max(1, testingProcs())
	b.SetParallelism((benchClients + procs - 1) / procs)
	b.ResetTimer()
	start, cpu := time.Now(), cputime.Process()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := c.Get(u)
			if err != nil {
				b.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
	// CPU per request (client and server share the process) is what the
	// ceiling depends on; it varies less with other load on the machine
	// than the rate does.
	b.ReportMetric(float64((cputime.Process()-cpu).Microseconds())/float64(b.N), "cpu-µs/req")
}

// BenchmarkBareHandler is the ceiling: a net/http handler that only
// answers a small JSON body, driven the same way.
func BenchmarkBareHandler(b *testing.B) {
	ln, _ := listener(b)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"fid":"1,0123456789","url":"127.0.0.1:8080","publicUrl":"127.0.0.1:8080","count":1}`))
	})}
	go srv.Serve(ln)
	defer srv.Close()
	drive(b, "http://"+ln.Addr().String()+"/dir/assign")
}

func benchCluster(b *testing.B, cfg Config) *testMaster {
	cfg.VacuumInterval = -1
	m := oneMaster(b, cfg)
	startVolume(b, []string{m.addr}, b.TempDir(), 8, "", "")
	waitNodes(b, m, 1)
	assignOK(b, m.addr, nil)
	return m
}

// BenchmarkAssign is /dir/assign (count=1) on a leader with writable
// volumes: key blocks are reserved through Raft ahead of need.
func BenchmarkAssign(b *testing.B) {
	m := benchCluster(b, Config{})
	drive(b, "http://"+m.addr+"/dir/assign")
	st := m.view.Load().seq.Stats()
	b.ReportMetric(float64(st.Waits), "key-waits")
}

// BenchmarkAssignDurable is BenchmarkAssign with the Raft log on disk
// (fsync per reservation) and small key blocks, so reservations happen
// all through the run: they must not show in the rate.
func BenchmarkAssignDurable(b *testing.B) {
	m := benchCluster(b, Config{MetaDir: b.TempDir(), KeyBlock: 1000})
	drive(b, "http://"+m.addr+"/dir/assign")
	st := m.view.Load().seq.Stats()
	b.ReportMetric(float64(st.Blocks), "key-blocks")
	b.ReportMetric(float64(st.Waits), "key-waits")
}

// BenchmarkLookup is /dir/lookup?volumeId= on the leader.
func BenchmarkLookup(b *testing.B) {
	m := benchCluster(b, Config{})
	a := assignOK(b, m.addr, nil)
	drive(b, "http://"+m.addr+"/dir/lookup?"+url.Values{"volumeId": {volumePart(a.Fid)}}.Encode())
}
