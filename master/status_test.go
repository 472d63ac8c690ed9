package master

import (
	"bytes"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"weedfs.dev/weed/security"
	"weedfs.dev/weed/storage/needle"
)

func TestStatusShapes(t *testing.T) {
	m, v := cluster1(t, Config{Version: "30GB test"})
	a := assignOK(t, m.addr, url.Values{"collection": {"pics"}})
	fid, _ := needle.ParseFileID(a.Fid)

	resp, b := get(t, m.addr, "/dir/status", url.Values{"pretty": {"y"}})
	if resp.StatusCode != http.StatusOK || !bytes.Contains(b, []byte("\n  ")) {
		t.Fatalf("/dir/status?pretty: %d %s", resp.StatusCode, b)
	}
	ds := decode[struct {
		Version  string
		Topology struct {
			Max, Free   int
			DataCenters []struct {
				ID    string `json:"Id"`
				Racks []struct {
					ID        string `json:"Id"`
					DataNodes []struct {
						URL       string `json:"Url"`
						PublicURL string `json:"PublicUrl"`
						Volumes   int
						Max       int
						VolumeIDs string `json:"VolumeIds"`
					}
				}
			}
			Layouts []struct {
				Replication string   `json:"replication"`
				Writables   []uint32 `json:"writables"`
				Collection  string   `json:"collection"`
				DiskType    string   `json:"diskType"`
			}
		}
	}](t, b)
	dn := ds.Topology.DataCenters[0].Racks[0].DataNodes[0]
	if ds.Version != "30GB test" || ds.Topology.Max != 8 || ds.Topology.Free != 8-dn.Volumes ||
		ds.Topology.DataCenters[0].ID != "DefaultDataCenter" || dn.URL != v.addr || dn.Volumes != 7 || dn.Max != 8 {
		t.Fatalf("/dir/status = %s", b)
	}
	l := ds.Topology.Layouts[0]
	if l.Collection != "pics" || l.Replication != "000" || l.DiskType != "hdd" || len(l.Writables) != 7 {
		t.Fatalf("/dir/status layouts = %+v", ds.Topology.Layouts)
	}

	// /vol/status lists the volume once the server reported it.
	waitFor(t, 5*time.Second, "volume in /vol/status", func() bool {
		_, b := get(t, m.addr, "/vol/status", nil)
		return bytes.Contains(b, []byte(fmt.Sprintf(`"Id":%d,`, fid.VolumeID)))
	})
	_, b = get(t, m.addr, "/vol/status", nil)
	vs := decode[struct {
		Version string
		Volumes struct {
			DataCenters map[string]map[string]map[string][]map[string]any
		}
	}](t, b)
	vols := vs.Volumes.DataCenters["DefaultDataCenter"]["DefaultRack"][v.addr]
	if len(vols) != 7 {
		t.Fatalf("/vol/status = %s", b)
	}
	for _, k := range []string{"Id", "Size", "ReplicaPlacement", "Ttl", "DiskType", "Collection", "Version", "FileCount",
		"DeleteCount", "DeletedByteCount", "ReadOnly", "CompactRevision", "ModifiedAtSecond"} {
		if _, ok := vols[0][k]; !ok {
			t.Fatalf("/vol/status volume lacks %s: %v", k, vols[0])
		}
	}

	_, b = get(t, m.addr, "/cluster/status", nil)
	cs := decode[map[string]any](t, b)
	if cs["IsLeader"] != true || cs["Leader"] != m.addr || cs["MaxVolumeId"] != float64(7) {
		t.Fatalf("/cluster/status = %s", b)
	}
	if _, ok := cs["Peers"]; ok {
		t.Fatalf("/cluster/status of a single master lists peers: %s", b)
	}
	for _, p := range []string{"/cluster/healthz", "/healthz"} {
		if resp, _ := get(t, m.addr, p, nil); resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d", p, resp.StatusCode)
		}
	}

	resp, b = get(t, m.addr, "/collection/info", url.Values{"collection": {"pics"}})
	ci := decode[map[string]any](t, b)
	if resp.StatusCode != http.StatusOK || ci["Collection"] != "pics" || ci["VolumeCount"] != float64(7) {
		t.Fatalf("/collection/info = %d %s", resp.StatusCode, b)
	}
	resp, b = get(t, m.addr, "/collection/info", url.Values{"collection": {"nosuch"}})
	wantError(t, resp, b, http.StatusBadRequest, "collection nosuch does not exist")
}

func TestDeleteCollection(t *testing.T) {
	m, v := cluster1(t, Config{})
	a := assignOK(t, m.addr, url.Values{"collection": {"pics"}})
	assignOK(t, m.addr, nil)
	fid, _ := needle.ParseFileID(a.Fid)
	if len(v.store.Volumes()) != 8 {
		t.Fatalf("server holds %d volumes, want 7 + 1", len(v.store.Volumes()))
	}
	resp, b := get(t, m.addr, "/col/delete", url.Values{"collection": {"pics"}})
	if resp.StatusCode != http.StatusNoContent || len(b) != 0 {
		t.Fatalf("/col/delete: %d %s", resp.StatusCode, b)
	}
	for _, vol := range v.store.Volumes() {
		if vol.Info().Collection == "pics" {
			t.Fatalf("volume %d of pics survived", vol.Info().ID)
		}
	}
	if _, ok := m.state.Volume(fid.VolumeID); ok {
		t.Fatal("the record of a deleted collection's volume survived")
	}
	resp, b = get(t, m.addr, "/dir/lookup", url.Values{"volumeId": {a.Fid}})
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("lookup after delete: %d %s", resp.StatusCode, b)
	}
	resp, b = get(t, m.addr, "/col/delete", url.Values{"collection": {"nosuch"}})
	wantError(t, resp, b, http.StatusBadRequest, "collection nosuch does not exist")
	resp, b = get(t, m.addr, "/col/delete", nil)
	wantError(t, resp, b, http.StatusBadRequest, "collection")
	if len(v.store.Volumes()) != 1 {
		t.Fatalf("the default collection's volume did not survive: %d left", len(v.store.Volumes()))
	}
}

func TestSubmit(t *testing.T) {
	m, _ := cluster1(t, Config{})
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("collection", "docs")
	fw, _ := mw.CreateFormFile("file", "hello.txt")
	fw.Write([]byte("hello submit"))
	mw.Close()
	resp, b := call(t, http.MethodPost, "http://"+m.addr+"/submit", &buf, map[string]string{"Content-Type": mw.FormDataContentType()})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("/submit: %d %s", resp.StatusCode, b)
	}
	sr := decode[submitResult](t, b)
	if sr.FileName != "hello.txt" || sr.Size != int64(len("hello submit")) || !strings.HasSuffix(sr.FileURL, "/"+sr.Fid) || sr.ETag == "" {
		t.Fatalf("/submit = %s", b)
	}
	resp, b = call(t, http.MethodGet, "http://"+sr.FileURL, nil, nil)
	if resp.StatusCode != http.StatusOK || string(b) != "hello submit" {
		t.Fatalf("read submitted: %d %q", resp.StatusCode, b)
	}
	fid, _ := needle.ParseFileID(sr.Fid)
	if st, _ := m.Topology().VolumeState(fid.VolumeID); st.Key.Collection != "docs" {
		t.Fatalf("submitted to collection %q, want docs", st.Key.Collection)
	}
	resp, b = get(t, m.addr, "/submit", nil)
	wantError(t, resp, b, http.StatusMethodNotAllowed, "Only submit via POST!")
}

func TestWhiteList(t *testing.T) {
	wl, err := security.ParseWhiteList("10.1.2.3")
	if err != nil {
		t.Fatal(err)
	}
	m, _ := cluster1(t, Config{WhiteList: wl})
	resp, b := get(t, m.addr, "/dir/assign", nil)
	wantError(t, resp, b, http.StatusUnauthorized, "white list")
	// Reads are open.
	if resp, _ := get(t, m.addr, "/dir/status", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("/dir/status behind a white list: %d", resp.StatusCode)
	}
}

func TestVolGrowBadInputChangesNothing(t *testing.T) {
	m, _ := cluster1(t, Config{})
	maxVID := m.state.MaxVolumeID()
	for _, tc := range []struct {
		q      url.Values
		status int
		substr string
	}{
		{url.Values{}, http.StatusNotAcceptable, "can not parse parameter count "},
		{url.Values{"count": {"x"}}, http.StatusNotAcceptable, "can not parse parameter count x"},
		{url.Values{"count": {"0"}}, http.StatusNotAcceptable, "can not parse parameter count 0"},
		{url.Values{"count": {"-2"}}, http.StatusNotAcceptable, "can not parse parameter count -2"},
		{url.Values{"count": {"1"}, "replication": {"0a1"}}, http.StatusNotAcceptable, "unexpected replication type: 0a1"},
		{url.Values{"count": {"1"}, "ttl": {"1q2"}}, http.StatusNotAcceptable, "ttl"},
		{url.Values{"count": {"1"}, "dataCenter": {"dc9"}}, http.StatusBadRequest, "data center dc9 not found"},
		{url.Values{"count": {"9"}}, http.StatusNotAcceptable, "not enough"},
		{url.Values{"count": {"4294967296"}}, http.StatusNotAcceptable, "can not parse parameter count"},
	} {
		resp, b := get(t, m.addr, "/vol/grow", tc.q)
		wantError(t, resp, b, tc.status, tc.substr)
	}
	if m.state.MaxVolumeID() != maxVID || len(m.state.Volumes()) != 0 {
		t.Fatalf("bad /vol/grow input changed the state: max volume id %d -> %d, %d records",
			maxVID, m.state.MaxVolumeID(), len(m.state.Volumes()))
	}
	resp, b := get(t, m.addr, "/vol/grow", url.Values{"count": {"3"}, "collection": {"g"}})
	if resp.StatusCode != http.StatusOK || decode[map[string]int](t, b)["count"] != 3 || len(m.state.Volumes()) != 3 {
		t.Fatalf("/vol/grow count=3: %d %s, %d records", resp.StatusCode, b, len(m.state.Volumes()))
	}
}

// /dir/status also gives the volume size limit and the bytes the volumes
// hold, which with Topology.Max make a capacity (a mount's statfs).
func TestDirStatusCapacity(t *testing.T) {
	m, _ := cluster1(t, Config{VolumeSizeLimitMB: 64})
	a := assignOK(t, m.addr, nil)
	body := bytes.Repeat([]byte("capacity "), 100_000) // 900,000 bytes
	req, _ := http.NewRequest(http.MethodPut, "http://"+a.URL+"/"+a.Fid, bytes.NewReader(body))
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("upload: %d", resp.StatusCode)
	}
	var ds struct {
		VolumeSizeLimit, UsedSize uint64
		Topology                  struct{ Max int }
	}
	waitFor(t, 5*time.Second, "the upload to be reported", func() bool {
		_, b := get(t, m.addr, "/dir/status", nil)
		ds = decode[struct {
			VolumeSizeLimit, UsedSize uint64
			Topology                  struct{ Max int }
		}](t, b)
		return ds.UsedSize >= uint64(len(body))
	})
	if ds.VolumeSizeLimit != 64<<20 || ds.Topology.Max != 8 {
		t.Fatalf("VolumeSizeLimit %d, Max %d; want %d and 8", ds.VolumeSizeLimit, ds.Topology.Max, 64<<20)
	}
	if ds.UsedSize > uint64(len(body))+1<<20 {
		t.Fatalf("UsedSize %d for %d bytes written", ds.UsedSize, len(body))
	}
}
