package cmd

import (
	"context"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"weedfs.dev/weed/client"
	"weedfs.dev/weed/internal/testcluster"
)

func TestShellVolumeListAndMark(t *testing.T) {
	if testing.Short() {
		t.Skip("process-level test")
	}
	maddr := startServer(t)
	c := client.New([]string{maddr}, client.Options{})
	a, err := c.Assign(context.Background(), client.AssignOptions{Collection: "pics"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Upload(context.Background(), a.URL, a.Fid, []byte("hello"), client.UploadOptions{Name: "h.txt"}); err != nil {
		t.Fatal(err)
	}
	vid := a.Fid[:strings.IndexByte(a.Fid, ',')]
	out := string(weed(t, "shell", "-master", maddr, "-c", "volume.list"))
	if !strings.Contains(out, "volume id:"+vid+` collection:"pics"`) || !strings.Contains(out, "DataNode "+a.URL) {
		t.Fatalf("volume.list does not show volume %s on %s:\n%s", vid, a.URL, out)
	}
	out = string(weed(t, "shell", "-master", maddr, "-c", "collection.list"))
	if !strings.Contains(out, "collection: pics") {
		t.Fatalf("collection.list:\n%s", out)
	}
	weed(t, "shell", "-master", maddr, "-c", "volume.mark -volumeId="+vid+" -readonly")
	deadline := time.Now().Add(10 * time.Second)
	for !volumeReadOnly(t, maddr, vid) {
		if time.Now().After(deadline) {
			t.Fatalf("volume %s not read-only after volume.mark", vid)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// A write to it is refused now.
	if _, err := c.Upload(context.Background(), a.URL, a.Fid+"_1", []byte("x"), client.UploadOptions{}); err == nil {
		t.Fatal("write to a read-only volume succeeded")
	}
}

func volumeReadOnly(t *testing.T, maddr, vid string) bool {
	out := string(weed(t, "shell", "-master", maddr, "-c", "volume.list"))
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "volume id:"+vid+" ") {
			return strings.Contains(line, "readOnly:true")
		}
	}
	return false
}

// TestShellFixReplication loses every volume of one of two servers (001
// placement) and has volume.fix.replication restore them.
func TestShellFixReplication(t *testing.T) {
	if testing.Short() {
		t.Skip("process-level test")
	}
	mport := testcluster.FreePort(t)
	maddr := "127.0.0.1:" + strconv.Itoa(mport)
	testcluster.Start(t, "master", "-port", strconv.Itoa(mport), "-mdir", t.TempDir(), "-pulseSeconds", "1", "-defaultReplication", "001")
	ports := []int{testcluster.FreePort(t), testcluster.FreePort(t)}
	dirs := []string{t.TempDir(), t.TempDir()}
	start := func(i int) *testcluster.Proc {
		p := testcluster.Start(t, "volume", "-port", strconv.Itoa(ports[i]), "-dir", dirs[i], "-master", maddr, "-pulseSeconds", "1")
		testcluster.WaitHTTP(t, "http://127.0.0.1:"+strconv.Itoa(ports[i])+"/status", 200, 20*time.Second)
		return p
	}
	start(0)
	lost := start(1)
	testcluster.WaitHTTP(t, "http://"+maddr+"/dir/assign", 200, 30*time.Second)

	c := client.New([]string{maddr}, client.Options{})
	ctx := context.Background()
	files := map[string]string{}
	for i := 0; i < 20; i++ {
		a, err := c.Assign(ctx, client.AssignOptions{})
		if err != nil {
			t.Fatal(err)
		}
		body := "file number " + strconv.Itoa(i)
		if _, err := c.Upload(ctx, a.URL, a.Fid, []byte(body), client.UploadOptions{}); err != nil {
			t.Fatal(err)
		}
		files[a.Fid] = body
	}
	// The second server loses its disk and comes back empty.
	lost.Kill()
	entries, _ := os.ReadDir(dirs[1])
	for _, e := range entries {
		os.RemoveAll(dirs[1] + "/" + e.Name())
	}
	start(1)
	victim := "127.0.0.1:" + strconv.Itoa(ports[1])
	deadline := time.Now().Add(20 * time.Second)
	for {
		out := string(weed(t, "shell", "-master", maddr, "-c", "volume.list"))
		if strings.Contains(out, "DataNode "+victim+" volumes:0") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the master never saw %s empty:\n%s", victim, out)
		}
		time.Sleep(200 * time.Millisecond)
	}
	out := string(weed(t, "shell", "-master", maddr, "-c", "volume.fix.replication"))
	if !strings.Contains(out, "copied from") {
		t.Fatalf("volume.fix.replication made no copy:\n%s", out)
	}
	for fid, body := range files {
		resp, err := http.Get("http://" + victim + "/" + fid)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(b) != body {
			t.Fatalf("%s on the restored server: %d %q", fid, resp.StatusCode, b)
		}
	}
	out = string(weed(t, "shell", "-master", maddr, "-c", "volume.fix.replication"))
	if !strings.Contains(out, "every volume has all its replicas") {
		t.Fatalf("second run still fixes:\n%s", out)
	}
}

// TestShellBalance fills one server, adds an empty one, and has
// volume.balance move volumes until the two hold about as many; every file
// still reads back through the client afterwards.
func TestShellBalance(t *testing.T) {
	if testing.Short() {
		t.Skip("process-level test")
	}
	mport := testcluster.FreePort(t)
	maddr := "127.0.0.1:" + strconv.Itoa(mport)
	testcluster.Start(t, "master", "-port", strconv.Itoa(mport), "-mdir", t.TempDir(), "-pulseSeconds", "1")
	start := func() string {
		port := testcluster.FreePort(t)
		testcluster.Start(t, "volume", "-port", strconv.Itoa(port), "-dir", t.TempDir(), "-master", maddr, "-pulseSeconds", "1")
		testcluster.WaitHTTP(t, "http://127.0.0.1:"+strconv.Itoa(port)+"/status", 200, 20*time.Second)
		return "127.0.0.1:" + strconv.Itoa(port)
	}
	first := start()
	testcluster.WaitHTTP(t, "http://"+maddr+"/dir/assign", 200, 30*time.Second)
	c := client.New([]string{maddr}, client.Options{})
	ctx := context.Background()
	files := map[string]string{}
	for i := 0; i < 30; i++ {
		a, err := c.Assign(ctx, client.AssignOptions{})
		if err != nil {
			t.Fatal(err)
		}
		body := "balanced file " + strconv.Itoa(i)
		if _, err := c.Upload(ctx, a.URL, a.Fid, []byte(body), client.UploadOptions{}); err != nil {
			t.Fatal(err)
		}
		files[a.Fid] = body
	}
	second := start()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(string(weed(t, "shell", "-master", maddr, "-c", "volume.list")), "DataNode "+second+" volumes:0") {
		if time.Now().After(deadline) {
			t.Fatal("the master never saw the second server")
		}
		time.Sleep(200 * time.Millisecond)
	}
	out := string(weed(t, "shell", "-master", maddr, "-c", "volume.balance"))
	if !strings.Contains(out, "moved from "+first+" to "+second) {
		t.Fatalf("volume.balance moved nothing to the empty server:\n%s", out)
	}
	list := string(weed(t, "shell", "-master", maddr, "-c", "volume.list"))
	count := func(node string) int {
		i := strings.Index(list, "DataNode "+node+" volumes:")
		if i < 0 {
			t.Fatalf("%s missing from:\n%s", node, list)
		}
		n, _ := strconv.Atoi(strings.Fields(list[i+len("DataNode "+node+" volumes:"):])[0])
		return n
	}
	if a, b := count(first), count(second); a-b > 1 || b-a > 1 {
		t.Fatalf("after balance the servers hold %d and %d volumes:\n%s", a, b, list)
	}
	fresh := client.New([]string{maddr}, client.Options{})
	for fid, body := range files {
		b, _, err := fresh.Read(ctx, fid, client.ReadOptions{})
		if err != nil || string(b) != body {
			t.Fatalf("%s after balance: %v %q", fid, err, b)
		}
	}
}
