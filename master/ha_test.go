package master

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"weedfs.dev/weed/client"
	"weedfs.dev/weed/security"
	"weedfs.dev/weed/storage/needle"
)

// group is three masters on loopback ports with their Raft logs in dirs.
type group struct {
	t       *testing.T
	ports   []int
	dirs    []string
	peers   []string
	masters []*testMaster
	extra   Config // WhiteList and Security of every master
}

func newGroup(t *testing.T, extra Config) *group {
	g := &group{t: t, extra: extra}
	var lns []net.Listener
	for range 3 {
		ln, port := listener(t)
		lns = append(lns, ln)
		g.ports = append(g.ports, port)
		g.dirs = append(g.dirs, t.TempDir())
		g.peers = append(g.peers, "127.0.0.1:"+strconv.Itoa(port))
	}
	g.masters = make([]*testMaster, 3)
	for i, ln := range lns {
		g.masters[i] = g.start(i, ln)
	}
	return g
}

func (g *group) start(i int, ln net.Listener) *testMaster {
	if ln == nil {
		var err error
		ln, err = net.Listen("tcp", g.peers[i])
		if err != nil {
			g.t.Fatalf("relisten on %s: %v", g.peers[i], err)
		}
	}
	cfg := g.extra
	cfg.MetaDir, cfg.Peers = g.dirs[i], g.peers
	return startMaster(g.t, ln, cfg)
}

// leader waits for exactly one running master to lead, and returns it.
func (g *group) leader(d time.Duration) *testMaster {
	g.t.Helper()
	var lead *testMaster
	waitFor(g.t, d, "one leader", func() bool {
		lead = nil
		n := 0
		for _, m := range g.masters {
			if !m.closed && m.IsLeader() {
				lead = m
				n++
			}
		}
		return n == 1
	})
	return lead
}

// fidLog collects every key an assign handed out.
type fidLog struct {
	mu   sync.Mutex
	keys map[uint64]string
	dups []string
	n    int
}

func (l *fidLog) add(fid string, count uint64) error {
	id, err := needle.ParseFileID(fid)
	if err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.n++
	for k := id.Key; k < id.Key+count; k++ {
		if prev, ok := l.keys[k]; ok {
			l.dups = append(l.dups, prev+" and "+fid)
		}
		l.keys[k] = fid
	}
	return nil
}

func (l *fidLog) maxKey() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	var m uint64
	for k := range l.keys {
		m = max(m, k)
	}
	return m
}

// assignLoop assigns through every master in turn (followers forward to
// the leader) until ctx ends; failures during a failover are expected.
func assignLoop(ctx context.Context, masters []string, log *fidLog) {
	c := client.New(masters, client.Options{})
	for i := 0; ctx.Err() == nil; i++ {
		count := uint64(1 + i%3)
		a, err := c.Assign(ctx, client.AssignOptions{Count: count})
		if err != nil {
			time.Sleep(5 * time.Millisecond)
			continue
		}
		log.add(a.Fid, a.Count)
	}
}

func TestThreeMastersFailoverAndRestart(t *testing.T) {
	g := newGroup(t, Config{})
	lead := g.leader(10 * time.Second)
	vs := startVolume(t, g.peers, t.TempDir(), 30, "", "")
	waitNodes(t, lead, 1)
	assignOK(t, lead.addr, nil) // grow the layout

	// A follower forwards assigns and answers cluster status itself.
	for _, m := range g.masters {
		if m == lead {
			continue
		}
		assignOK(t, m.addr, nil)
		_, b := get(t, m.addr, "/cluster/status", nil)
		cs := decode[clusterStatus](t, b)
		if cs.IsLeader || cs.Leader != lead.addr || len(cs.Peers) != 2 {
			t.Fatalf("follower /cluster/status = %s", b)
		}
	}

	log := &fidLog{keys: map[uint64]string{}}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() { defer wg.Done(); assignLoop(ctx, g.peers, log) }()
	}
	stopLoops := func() { cancel(); wg.Wait() }
	defer stopLoops()

	// Two failovers under load: each time the leader stops, another takes
	// over, the volume server follows it, and assigns flow again.
	for range 2 {
		waitFor(t, 5*time.Second, "assigns before the failover", func() bool { log.mu.Lock(); defer log.mu.Unlock(); return log.n > 50 })
		old := lead
		old.stop()
		lead = g.leader(10 * time.Second)
		if lead == old {
			t.Fatal("the stopped master still leads")
		}
		waitFor(t, 10*time.Second, "volume server to follow the new leader", func() bool { return vs.Leader() == lead.addr })
		log.mu.Lock()
		n := log.n
		log.mu.Unlock()
		waitFor(t, 10*time.Second, "assigns on the new leader", func() bool { log.mu.Lock(); defer log.mu.Unlock(); return log.n > n+50 })
		// Bring the old one back as a follower.
		for i, m := range g.masters {
			if m == old {
				g.masters[i] = g.start(i, nil)
			}
		}
	}
	stopLoops()
	if len(log.dups) > 0 {
		t.Fatalf("%d keys issued twice, e.g. %s", len(log.dups), log.dups[0])
	}
	issuedMax := log.maxKey()
	maxVID := lead.state.MaxVolumeID()
	if maxVID == 0 || lead.state.MaxKey() < issuedMax {
		t.Fatalf("leader state: max volume id %d, max key %d below issued %d", maxVID, lead.state.MaxKey(), issuedMax)
	}

	// Restart every master from its folder: the replicated state survives.
	for _, m := range g.masters {
		m.stop()
	}
	for i := range g.masters {
		g.masters[i] = g.start(i, nil)
	}
	lead = g.leader(10 * time.Second)
	waitFor(t, 10*time.Second, "state replayed", func() bool {
		return lead.state.MaxVolumeID() == maxVID && lead.state.MaxKey() >= issuedMax
	})
	waitFor(t, 10*time.Second, "volume server to follow the restarted leader", func() bool { return vs.Leader() == lead.addr })
	waitNodes(t, lead, 1)
	a := assignOK(t, lead.addr, nil)
	id, _ := needle.ParseFileID(a.Fid)
	if id.Key <= issuedMax {
		t.Fatalf("after restart key %d reissues a key at or below %d", id.Key, issuedMax)
	}
}

func TestNoLeaderAnswers503(t *testing.T) {
	// A master whose two peers never start cannot elect a leader.
	ln, port := listener(t)
	_, p2 := listener(t)
	_, p3 := listener(t)
	self := "127.0.0.1:" + strconv.Itoa(port)
	peers := []string{self, "127.0.0.1:" + strconv.Itoa(p2), "127.0.0.1:" + strconv.Itoa(p3)}
	m := startMaster(t, ln, Config{Peers: peers})
	time.Sleep(300 * time.Millisecond) // a few election timeouts pass without a leader
	for _, p := range []string{"/dir/assign", "/vol/grow?count=1", "/col/delete?collection=x", "/dir/status"} {
		resp, b := call(t, http.MethodGet, "http://"+m.addr+p, nil, nil)
		wantError(t, resp, b, http.StatusServiceUnavailable, "no leader")
	}
	resp, _ := get(t, m.addr, "/cluster/healthz", nil)
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("/cluster/healthz without a leader: %d", resp.StatusCode)
	}
	// Lookups answer from the (empty) local view: not "not found", which
	// a client would trust, but 503.
	resp, b := get(t, m.addr, "/dir/lookup", url.Values{"volumeId": {"1"}})
	wantError(t, resp, b, http.StatusServiceUnavailable, "no leader")
	if m.state.MaxVolumeID() != 0 || m.state.MaxKey() != 0 {
		t.Fatal("requests without a leader changed the state")
	}
}

func TestFollowersForwardThroughTheWhiteList(t *testing.T) {
	wl, err := security.ParseWhiteList("127.0.0.2")
	if err != nil {
		t.Fatal(err)
	}
	g := newGroup(t, Config{WhiteList: wl})
	lead := g.leader(10 * time.Second)
	startVolume(t, g.peers, t.TempDir(), 8, "", "")
	waitNodes(t, lead, 1)
	// A client at 127.0.0.2 is white-listed.
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}}
	allowed := &http.Client{Transport: &http.Transport{DialContext: dialer.DialContext}}
	var follower *testMaster
	for _, m := range g.masters {
		if m != lead {
			follower = m
		}
	}
	resp, err := allowed.Get("http://" + follower.addr + "/dir/assign")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("white-listed assign through a follower: %d %s", resp.StatusCode, b)
	}
	a := decode[client.Assignment](t, b)
	// Reads through the follower reach the leader's view.
	resp2, b := get(t, follower.addr, "/dir/lookup", url.Values{"volumeId": {a.Fid}})
	if resp2.StatusCode != http.StatusOK || len(decode[lookupResult](t, b).Locations) != 1 {
		t.Fatalf("lookup through a follower: %d %s", resp2.StatusCode, b)
	}
	// A follower answers repeated lookups from what the leader told it.
	for i := 0; follower.lookups.hits.Load() == 0; i++ {
		if i == 20 {
			t.Fatal("the follower never answered a lookup from its cache")
		}
		for range 2 {
			resp, b := get(t, follower.addr, "/dir/lookup", url.Values{"fileId": {a.Fid}})
			if resp.StatusCode != http.StatusOK || decode[lookupResult](t, b).Locations[0].URL == "" {
				t.Fatalf("lookup through a follower: %d %s", resp.StatusCode, b)
			}
		}
	}
	// 127.0.0.1 is not white-listed: refused by the follower and the leader.
	for _, m := range []*testMaster{follower, lead} {
		resp, b := get(t, m.addr, "/dir/assign", nil)
		wantError(t, resp, b, http.StatusUnauthorized, "white list")
	}
	// A forged forwarding header naming a non-member is refused.
	resp3, b := call(t, http.MethodGet, "http://"+lead.addr+"/dir/assign", nil, map[string]string{proxiedHeader: "127.0.0.1:1"})
	wantError(t, resp3, b, http.StatusUnauthorized, "white list")
}

func TestRestartFromSnapshots(t *testing.T) {
	dir := t.TempDir()
	rc := testRaft()
	rc.SnapshotEntries, rc.TrailingEntries = 8, 2
	cfg := Config{MetaDir: dir, Raft: rc, KeyBlock: 4, VacuumInterval: -1}
	ln, port := listener(t)
	m := startMaster(t, ln, cfg)
	waitFor(t, 5*time.Second, "leader", m.IsLeader)
	startVolume(t, []string{m.addr}, t.TempDir(), 8, "", "")
	waitNodes(t, m, 1)
	var maxKey uint64
	for range 100 {
		id, _ := needle.ParseFileID(assignOK(t, m.addr, nil).Fid)
		maxKey = max(maxKey, id.Key)
	}
	waitFor(t, 5*time.Second, "a snapshot", func() bool { return m.raft.Status().SnapshotIndex > 0 })
	maxVID, stateKey := m.state.MaxVolumeID(), m.state.MaxKey()
	m.stop()

	ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		t.Fatal(err)
	}
	m = startMaster(t, ln, cfg)
	waitFor(t, 5*time.Second, "leader after restart", m.IsLeader)
	if m.raft.Status().SnapshotIndex == 0 {
		t.Fatal("restarted without the snapshot")
	}
	if m.state.MaxVolumeID() != maxVID || m.state.MaxKey() < stateKey {
		t.Fatalf("after restart: max volume id %d (want %d), max key %d (want >= %d)",
			m.state.MaxVolumeID(), maxVID, m.state.MaxKey(), stateKey)
	}
	waitNodes(t, m, 1)
	if id, _ := needle.ParseFileID(assignOK(t, m.addr, nil).Fid); id.Key <= maxKey {
		t.Fatalf("key %d after restart, issued up to %d before", id.Key, maxKey)
	}
}
