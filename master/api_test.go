package master

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"weedfs.dev/weed/client"
	"weedfs.dev/weed/security"
	"weedfs.dev/weed/storage/needle"
)

// cluster1 is one master and one volume server, ready for assigns.
func cluster1(t *testing.T, cfg Config) (*testMaster, *testVolume) {
	t.Helper()
	m := oneMaster(t, cfg)
	v := startVolume(t, []string{m.addr}, t.TempDir(), 8, "", "")
	waitNodes(t, m, 1)
	return m, v
}

func TestAssignUploadLookupRead(t *testing.T) {
	m, v := cluster1(t, Config{})
	ctx := context.Background()
	c := client.New([]string{m.addr}, client.Options{})

	a := assignOK(t, m.addr, nil)
	if a.URL != v.addr || a.PublicURL != v.addr || a.Count != 1 {
		t.Fatalf("assign = %+v, want url and publicUrl %s and count 1", a, v.addr)
	}
	fid, err := needle.ParseFileID(a.Fid)
	if err != nil {
		t.Fatalf("assign returned a bad fid %q: %v", a.Fid, err)
	}
	data := []byte("hello, weed master")
	if _, err := c.Upload(ctx, a.URL, a.Fid, data, client.UploadOptions{Name: "hello.txt"}); err != nil {
		t.Fatal(err)
	}

	resp, b := get(t, m.addr, "/dir/lookup", url.Values{"volumeId": {fmt.Sprint(fid.VolumeID)}})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("lookup: %d %s", resp.StatusCode, b)
	}
	lr := decode[lookupResult](t, b)
	if lr.VolumeOrFileID != fmt.Sprint(fid.VolumeID) || len(lr.Locations) != 1 || lr.Locations[0].URL != v.addr ||
		lr.Locations[0].DataCenter != "DefaultDataCenter" {
		t.Fatalf("lookup = %s", b)
	}
	// A full fid in volumeId and a fileId both name the volume.
	for _, q := range []url.Values{{"volumeId": {a.Fid}}, {"fileId": {a.Fid}}} {
		resp, b := get(t, m.addr, "/dir/lookup", q)
		if resp.StatusCode != http.StatusOK || decode[lookupResult](t, b).VolumeOrFileID != fmt.Sprint(fid.VolumeID) {
			t.Fatalf("lookup %v: %d %s", q, resp.StatusCode, b)
		}
	}
	got, _, err := c.Read(ctx, a.Fid, client.ReadOptions{})
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read back %q, %v", got, err)
	}

	// /<fid> on the master redirects to the volume server.
	resp, _ = get(t, m.addr, "/"+a.Fid, url.Values{"x": {"1"}})
	if resp.StatusCode != http.StatusPermanentRedirect || resp.Header.Get("Location") != "http://"+v.addr+"/"+a.Fid+"?x=1" {
		t.Fatalf("redirect: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, b = get(t, m.addr, "/4242,0123456789", nil)
	wantError(t, resp, b, http.StatusNotFound, "4242")
}

func TestAssignCountReservesConsecutiveKeys(t *testing.T) {
	m, _ := cluster1(t, Config{})
	ctx := context.Background()
	c := client.New([]string{m.addr}, client.Options{})
	a := assignOK(t, m.addr, url.Values{"count": {"5"}})
	if a.Count != 5 {
		t.Fatalf("count = %d, want 5", a.Count)
	}
	for i := range 5 {
		fid := a.Fid
		if i > 0 {
			fid = fmt.Sprintf("%s_%d", a.Fid, i)
		}
		body := []byte(fmt.Sprintf("blob %d", i))
		if _, err := c.Upload(ctx, a.URL, fid, body, client.UploadOptions{}); err != nil {
			t.Fatalf("upload %s: %v", fid, err)
		}
		got, _, err := c.Read(ctx, fid, client.ReadOptions{})
		if err != nil || !bytes.Equal(got, body) {
			t.Fatalf("read %s: %q %v", fid, got, err)
		}
	}
	// The next assign starts after the five reserved keys.
	first, _ := needle.ParseFileID(a.Fid)
	next, _ := needle.ParseFileID(assignOK(t, m.addr, nil).Fid)
	if next.Key < first.Key+5 {
		t.Fatalf("next key %d reuses the range %d..%d", next.Key, first.Key, first.Key+4)
	}
	// count=0, negative or junk means 1.
	for _, c := range []string{"0", "-3", "x"} {
		if a := assignOK(t, m.addr, url.Values{"count": {c}}); a.Count != 1 {
			t.Fatalf("count=%s gave count %d", c, a.Count)
		}
	}
}

func TestAssignBadInputChangesNothing(t *testing.T) {
	m, _ := cluster1(t, Config{MaxAssignCount: 1000})
	assignOK(t, m.addr, nil) // grow the default layout first
	maxVID, maxKey := m.state.MaxVolumeID(), m.state.MaxKey()
	layouts := len(m.Topology().Info().Layouts)

	cases := []struct {
		q      url.Values
		status int
		substr string
	}{
		{url.Values{"replication": {"abc"}}, http.StatusNotAcceptable, "unexpected replication type: abc"},
		{url.Values{"replication": {"1234"}}, http.StatusNotAcceptable, "unexpected replication type: 1234"},
		{url.Values{"replication": {"300"}}, http.StatusNotAcceptable, "unexpected replication type: 300"},
		{url.Values{"ttl": {"abc"}}, http.StatusNotAcceptable, "ttl"},
		{url.Values{"ttl": {"999d"}}, http.StatusNotAcceptable, "ttl"},
		{url.Values{"count": {"1001"}}, http.StatusNotAcceptable, "count 1001"},
		{url.Values{"dataCenter": {"nosuch"}}, http.StatusBadRequest, "data center nosuch not found"},
		{url.Values{"rack": {"nosuch"}}, http.StatusBadRequest, "rack nosuch not found"},
		{url.Values{"dataNode": {"10.9.9.9:1"}}, http.StatusBadRequest, "data node 10.9.9.9:1 not found"},
		{url.Values{"disk": {"ssd"}}, http.StatusNotAcceptable, "no free volumes left"},
	}
	for _, tc := range cases {
		resp, b := get(t, m.addr, "/dir/assign", tc.q)
		wantError(t, resp, b, tc.status, tc.substr)
	}
	if m.state.MaxVolumeID() != maxVID || m.state.MaxKey() != maxKey || len(m.Topology().Info().Layouts) != layouts {
		t.Fatalf("bad input changed the state: max volume id %d -> %d, max key %d -> %d",
			maxVID, m.state.MaxVolumeID(), maxKey, m.state.MaxKey())
	}
	// An unknown TTL unit letter is accepted as "no TTL", as SeaweedFS does.
	assignOK(t, m.addr, url.Values{"ttl": {"3x"}})
	// A real TTL gets a layout of its own.
	a := assignOK(t, m.addr, url.Values{"ttl": {"3d"}})
	fid, _ := needle.ParseFileID(a.Fid)
	st, ok := m.Topology().VolumeState(fid.VolumeID)
	if !ok || st.Key.TTL.String() != "3d" {
		t.Fatalf("ttl=3d assigned volume %d with layout %+v", fid.VolumeID, st.Key)
	}
}

func TestAssignAndLookupJWT(t *testing.T) {
	write := security.Key{Secret: []byte("write-secret"), Expiry: 10 * time.Second}
	read := security.Key{Secret: []byte("read-secret"), Expiry: 10 * time.Second}
	m, _ := cluster1(t, Config{Security: security.Config{Write: write}})
	a := assignOK(t, m.addr, nil)
	if a.Auth == "" {
		t.Fatal("no Authorization header on assign with a signing key")
	}
	if err := security.Verify(write, a.Auth, a.Fid, time.Now()); err != nil {
		t.Fatalf("assign token does not grant %s: %v", a.Fid, err)
	}
	if err := security.Verify(write, a.Auth, "1,0000000000000001deadbeef", time.Now()); err == nil {
		t.Fatal("assign token grants another fid")
	}
	// The volume server of this cluster has no key; an upload with the
	// token works, which is what a client does.
	c := client.New([]string{m.addr}, client.Options{})
	if _, err := c.Upload(context.Background(), a.URL, a.Fid, []byte("x"), client.UploadOptions{JWT: a.Auth}); err != nil {
		t.Fatal(err)
	}
	resp, _ := get(t, m.addr, "/dir/lookup", url.Values{"fileId": {a.Fid}})
	tok := strings.TrimPrefix(resp.Header.Get("Authorization"), "Bearer ")
	if err := security.Verify(write, tok, a.Fid, time.Now()); err != nil {
		t.Fatalf("lookup?fileId token: %v", err)
	}
	// read=yes asks for a read token: none without a read key.
	resp, _ = get(t, m.addr, "/dir/lookup", url.Values{"fileId": {a.Fid}, "read": {"yes"}})
	if h := resp.Header.Get("Authorization"); h != "" {
		t.Fatalf("read token %q without a read key", h)
	}
	// A volumeId lookup carries no token.
	resp, _ = get(t, m.addr, "/dir/lookup", url.Values{"volumeId": {a.Fid}})
	if h := resp.Header.Get("Authorization"); h != "" {
		t.Fatalf("token %q on a volumeId lookup", h)
	}

	m2, _ := cluster1(t, Config{Security: security.Config{Read: read}})
	a2 := assignOK(t, m2.addr, nil)
	if a2.Auth != "" {
		t.Fatal("assign signed without a write key")
	}
	resp, _ = get(t, m2.addr, "/dir/lookup", url.Values{"fileId": {a2.Fid}, "read": {"yes"}})
	tok = strings.TrimPrefix(resp.Header.Get("Authorization"), "Bearer ")
	if err := security.Verify(read, tok, a2.Fid, time.Now()); err != nil {
		t.Fatalf("read token: %v", err)
	}
}

func TestLookupErrors(t *testing.T) {
	m, _ := cluster1(t, Config{})
	for _, tc := range []struct {
		q    url.Values
		want string
	}{
		{url.Values{"volumeId": {"9999"}}, "9999"},
		{url.Values{"fileId": {"9999,0123456789"}}, "9999"},
		{url.Values{"volumeId": {"abc"}}, "abc"},
		{url.Values{}, ""},
	} {
		resp, b := get(t, m.addr, "/dir/lookup", tc.q)
		if resp.StatusCode != http.StatusNotFound {
			t.Fatalf("lookup %v: %d %s", tc.q, resp.StatusCode, b)
		}
		lr := decode[lookupResult](t, b)
		if lr.VolumeOrFileID != tc.want || lr.Error == "" || len(lr.Locations) != 0 {
			t.Fatalf("lookup %v = %s", tc.q, b)
		}
	}
	// A collection that does not hold the volume does not find it.
	a := assignOK(t, m.addr, nil)
	resp, _ := get(t, m.addr, "/dir/lookup", url.Values{"volumeId": {a.Fid}, "collection": {"other"}})
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("lookup in the wrong collection: %d", resp.StatusCode)
	}
}

func TestGrowthWithReplication(t *testing.T) {
	m := oneMaster(t, Config{})
	v1 := startVolume(t, []string{m.addr}, t.TempDir(), 8, "", "")
	waitNodes(t, m, 1)

	// 001 needs a second server in the rack: none yet.
	resp, b := get(t, m.addr, "/dir/assign", url.Values{"replication": {"001"}})
	wantError(t, resp, b, http.StatusServiceUnavailable, "no writable volumes for")
	if !strings.Contains(string(b), "volume growth in progress") {
		t.Fatalf("503 body %s", b)
	}
	if n := m.state.MaxVolumeID(); n != 0 {
		t.Fatalf("an impossible growth issued volume ids up to %d", n)
	}

	v2 := startVolume(t, []string{m.addr}, t.TempDir(), 8, "", "")
	waitNodes(t, m, 2)
	a := assignOK(t, m.addr, url.Values{"replication": {"001"}})
	fid, _ := needle.ParseFileID(a.Fid)
	locs, err := m.Topology().Lookup(fid.VolumeID, "")
	if err != nil || len(locs) != 2 {
		t.Fatalf("volume %d of 001 has locations %v, %v", fid.VolumeID, locs, err)
	}
	// 6 volumes of 2 copies each: every server holds all 6.
	for _, v := range []*testVolume{v1, v2} {
		if n := len(v.store.Volumes()); n != 6 {
			t.Fatalf("server %s holds %d volumes, want 6", v.addr, n)
		}
	}
	// A write through either copy is readable from both.
	c := client.New([]string{m.addr}, client.Options{})
	if _, err := c.Upload(context.Background(), a.URL, a.Fid, []byte("twice"), client.UploadOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, v := range []*testVolume{v1, v2} {
		resp, b := call(t, http.MethodGet, "http://"+v.addr+"/"+a.Fid, nil, nil)
		if resp.StatusCode != http.StatusOK || string(b) != "twice" {
			t.Fatalf("read from %s: %d %q", v.addr, resp.StatusCode, b)
		}
	}
	// The records went through Raft.
	if rec, ok := m.state.Volume(fid.VolumeID); !ok || len(rec.Servers) != 2 || rec.ReplicaPlacement != 1 {
		t.Fatalf("record of volume %d = %+v %v", fid.VolumeID, rec, ok)
	}

	// Every slot is now used (6 volumes x 2 copies = 12 of 16, then 2 more
	// for /vol/grow), and a full cluster refuses with 406.
	resp, b = get(t, m.addr, "/vol/grow", url.Values{"count": {"2"}, "replication": {"001"}})
	if resp.StatusCode != http.StatusOK || decode[map[string]int](t, b)["count"] != 2 {
		t.Fatalf("/vol/grow count=2: %d %s", resp.StatusCode, b)
	}
	resp, b = get(t, m.addr, "/vol/grow", url.Values{"count": {"1"}, "replication": {"001"}})
	wantError(t, resp, b, http.StatusNotAcceptable, "not enough")
	resp, b = get(t, m.addr, "/dir/assign", url.Values{"collection": {"other"}})
	wantError(t, resp, b, http.StatusNotAcceptable, "no free volumes left")
	resp, b = get(t, m.addr, "/vol/grow", nil)
	wantError(t, resp, b, http.StatusNotAcceptable, "can not parse parameter count ")
}
