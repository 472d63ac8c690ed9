package volume

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"weedfs.dev/weed/client"
	"weedfs.dev/weed/client/localput"
	"weedfs.dev/weed/security"
	"weedfs.dev/weed/storage"
	"weedfs.dev/weed/storage/needle"
	"weedfs.dev/weed/storage/superblock"
	"weedfs.dev/weed/storage/vfs"

	"golang.org/x/sys/unix"
)

// serveLocal starts same-host uploads for s on a socket in dir and
// returns a function that stops them (and waits).
func serveLocal(t *testing.T, s *testServer, dir string) (socket string, stop func()) {
	t.Helper()
	if !localput.Supported {
		t.Skip("same-host uploads need Linux")
	}
	socket = LocalPath(dir, 1)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := s.ServeLocal(ctx, socket); err != nil {
			t.Errorf("ServeLocal: %v", err)
		}
	}()
	for i := 0; s.localPath.Load() == nil; i++ {
		if i > 500 {
			t.Fatal("socket not served after 5 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); wg.Wait() }) }
	t.Cleanup(stop)
	return socket, stop
}

func newArena(t *testing.T, size int) *localput.Arena {
	t.Helper()
	a, err := localput.NewArena(size)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

// startServerAt is startServer with a store whose clock stands still, so
// two stores write the same append times.
func startServerAt(t *testing.T, dir string, cfg Config, now time.Time) *testServer {
	t.Helper()
	store, err := storage.OpenStore(context.Background(), vfs.Default(), []storage.DiskLocation{{Dir: dir, MaxVolumes: 8}},
		slog.New(slog.DiscardHandler), storage.StoreOptions{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	cfg.IP, cfg.Version = "127.0.0.1", "test"
	srv := New(cfg, store)
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		hs.Close()
		srv.Stop()
		store.Close()
	})
	return &testServer{Server: srv, store: store, http: hs, url: hs.URL}
}

func hostPort(s *testServer) string { return strings.TrimPrefix(s.url, "http://") }

// A chunk sent through shared memory is stored as the very same record
// as the HTTP PUT of its bytes, and answered the same, whether the client
// gave the data's CRC (as the mount does) or left it to the server.
func TestLocalPutSameRecordAsPUT(t *testing.T) {
	httpDir, localDir := t.TempDir(), t.TempDir()
	now := time.Unix(1700000000, 123456789)
	hs := startServerAt(t, httpDir, Config{}, now)
	ls := startServerAt(t, localDir, Config{}, now)
	allocate(t, hs, 3)
	allocate(t, ls, 3)
	socket, _ := serveLocal(t, ls, localDir)
	if fi, err := os.Stat(socket); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket %s: %v, mode %v", socket, err, fi.Mode())
	}
	a := newArena(t, 8<<20)
	data := a.Bytes()[1<<20+13 : 1<<20+13+(3<<20)+5] // odd offset and size
	for i := range data {
		data[i] = byte(i*7 + i>>9)
	}
	w := client.NewChunkWriter(2)
	defer w.Close()
	ctx := context.Background()
	fids := []string{"3,01637037d6", "3,02637037d7", "3,03637037d8"}
	for i, fid := range fids {
		o := client.UploadOptions{Timestamp: 1700000000 + int64(i)}
		if i == 2 {
			o.TTL = "3d"
		}
		want, err := w.Put(ctx, hostPort(hs), fid, data, o)
		if err != nil {
			t.Fatal(err)
		}
		var crc *uint32
		if i != 1 {
			sum := needle.CRC(data)
			crc = &sum
		}
		got, err := w.PutFrom(ctx, hostPort(ls), fid, a, data, crc, o)
		if err != nil {
			t.Fatal(err)
		}
		if *got != *want {
			t.Fatalf("%s: same-host reply %+v, PUT reply %+v", fid, got, want)
		}
	}
	if n := ls.localPuts.Load(); n != uint64(len(fids)) {
		t.Fatalf("%d of %d uploads went through the socket", n, len(fids))
	}
	for _, s := range []*testServer{hs, ls} {
		v, err := s.store.Volume(3)
		if err != nil {
			t.Fatal(err)
		}
		if err := v.Sync(); err != nil {
			t.Fatal(err)
		}
	}
	for _, ext := range []string{".dat", ".idx"} {
		want, err := os.ReadFile(filepath.Join(httpDir, "3"+ext))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(localDir, "3"+ext))
		if err != nil {
			t.Fatal(err)
		}
		if len(want) < 3*len(data) && ext == ".dat" {
			t.Fatalf("%s holds %d bytes for 3 chunks of %d", ext, len(want), len(data))
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("3%s differs between PUT (%d bytes) and same-host upload (%d bytes)", ext, len(want), len(got))
		}
	}
	// The same bytes again: unchanged, as a PUT says with 204.
	r, err := w.PutFrom(ctx, hostPort(ls), fids[0], a, data, nil, client.UploadOptions{Timestamp: 1700000000})
	if err != nil || !r.Unchanged {
		t.Fatalf("re-upload: %+v, %v", r, err)
	}
	// And it reads back over HTTP.
	resp, b := do(t, "GET", ls.url+"/"+fids[1], nil, nil)
	if resp.StatusCode != 200 || !bytes.Equal(b, data) {
		t.Fatalf("GET: %d, %d bytes", resp.StatusCode, len(b))
	}
}

// Data outside the arena, a server without the socket, or one whose socket
// went away: the upload is a PUT, and it is stored.
func TestLocalPutFallsBackToPUT(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, dir, Config{})
	allocate(t, s, 5)
	a := newArena(t, 1<<20)
	data := a.Bytes()[:64<<10]
	copy(data, bytes.Repeat([]byte("fallback"), 8<<10))
	w := client.NewChunkWriter(2)
	defer w.Close()
	ctx := context.Background()
	put := func(fid string, d []byte) {
		t.Helper()
		if _, err := w.PutFrom(ctx, hostPort(s), fid, a, d, nil, client.UploadOptions{}); err != nil {
			t.Fatal(err)
		}
		resp, b := do(t, "GET", s.url+"/"+fid, nil, nil)
		if resp.StatusCode != 200 || !bytes.Equal(b, d) {
			t.Fatalf("GET %s: %d, %d bytes", fid, resp.StatusCode, len(b))
		}
	}
	put("5,01637037d6", data) // no socket served
	_, stop := serveLocal(t, s, dir)
	put("5,02637037d6", bytes.Clone(data)) // not in the arena
	if n := s.localPuts.Load(); n != 0 {
		t.Fatalf("%d uploads went through the socket", n)
	}
	// The writer asked before the socket existed; a new one finds it.
	w2 := client.NewChunkWriter(2)
	defer w2.Close()
	if _, err := w2.PutFrom(ctx, hostPort(s), "5,03637037d6", a, data, nil, client.UploadOptions{}); err != nil {
		t.Fatal(err)
	}
	if n := s.localPuts.Load(); n != 1 {
		t.Fatalf("%d uploads went through the socket, want 1", n)
	}
	stop() // its kept connection is now closed by the server
	w = w2
	put("5,04637037d6", data)
	if n := s.localPuts.Load(); n != 1 {
		t.Fatalf("%d uploads went through the socket after it stopped, want 1", n)
	}
}

// The socket asks what a PUT asks: a token when the cluster signs writes,
// the white list; and sends replicated volumes' writes to HTTP.
func TestLocalPutAuthorization(t *testing.T) {
	key := security.Key{Secret: []byte("secret"), Expiry: 10_000_000_000}
	dir := t.TempDir()
	s := startServer(t, dir, Config{Security: security.Config{Write: key}})
	allocate(t, s, 4)
	if _, err := s.store.AllocateVolume("", 6, superblock.PlacementFromByte(1), needle.TTL{}); err != nil {
		t.Fatal(err)
	}
	socket, _ := serveLocal(t, s, dir)
	a := newArena(t, 1<<20)
	copy(a.Bytes(), "signed bytes")
	data := a.Bytes()[:12]
	w := client.NewChunkWriter(1)
	defer w.Close()
	ctx := context.Background()
	if _, err := w.PutFrom(ctx, hostPort(s), "4,010c18c0eb", a, data, nil, client.UploadOptions{}); !errors.Is(err, client.ErrForbidden) {
		t.Fatalf("no token: %v", err)
	}
	other, _ := security.Sign(key, "4,020c18c0eb", s.now())
	if _, err := w.PutFrom(ctx, hostPort(s), "4,010c18c0eb", a, data, nil, client.UploadOptions{JWT: other}); client.StatusCode(err) != http.StatusUnauthorized {
		t.Fatalf("token for another fid: %v", err)
	}
	good, _ := security.Sign(key, "4,010c18c0eb", s.now())
	if _, err := w.PutFrom(ctx, hostPort(s), "4,010c18c0eb", a, data, nil, client.UploadOptions{JWT: good}); err != nil {
		t.Fatalf("good token: %v", err)
	}
	if n := s.localPuts.Load(); n != 1 {
		t.Fatalf("%d stored through the socket, want 1", n)
	}

	// A replicated volume: the server says to PUT it.
	lc := dialLocal(t, socket, a)
	jwt6, _ := security.Sign(key, "6,010c18c0eb", s.now())
	if r := lc.put(t, localput.Put{Length: 12, Fid: "6,010c18c0eb", JWT: jwt6}); r.Status != localput.StatusUseHTTP {
		t.Fatalf("replicated volume: %+v", r)
	}
	// Bytes outside the arena, a volume not here, a bad fid: refused.
	for _, p := range []localput.Put{
		{Offset: 1 << 20, Length: 1, Fid: "4,010c18c0eb", JWT: good},
		{Offset: 1<<20 - 4, Length: 8, Fid: "4,010c18c0eb", JWT: good},
	} {
		if r := lc.put(t, p); r.Status != http.StatusBadRequest {
			t.Fatalf("%d bytes at %d: %+v", p.Length, p.Offset, r)
		}
	}
	jwt9, _ := security.Sign(key, "9,010c18c0eb", s.now())
	if r := lc.put(t, localput.Put{Length: 1, Fid: "9,010c18c0eb", JWT: jwt9}); r.Status != http.StatusNotFound {
		t.Fatalf("volume not here: %+v", r)
	}
	if r := lc.put(t, localput.Put{Length: 1, Fid: "nonsense"}); r.Status != http.StatusBadRequest || r.Error == "" {
		t.Fatalf("bad fid: %+v", r)
	}

	// A white list without this host refuses it.
	wl, err := security.ParseWhiteList("10.1.2.3")
	if err != nil {
		t.Fatal(err)
	}
	s.cfg.WhiteList = wl
	if r := lc.put(t, localput.Put{Length: 1, Fid: "4,010c18c0eb", JWT: good}); r.Status != http.StatusUnauthorized {
		t.Fatalf("outside the white list: %+v", r)
	}
}

// rawLocal is a hand-driven connection to a server's socket.
type rawLocal struct {
	c   *net.UnixConn
	buf []byte
}

func dialLocal(t *testing.T, socket string, a *localput.Arena) *rawLocal {
	t.Helper()
	c, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: socket, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	rl := &rawLocal{c: c}
	if err := a.SendHello(c); err != nil {
		t.Fatal(err)
	}
	if r := rl.reply(t); r.Status != http.StatusOK {
		t.Fatalf("hello: %+v", r)
	}
	return rl
}

func (rl *rawLocal) reply(t *testing.T) localput.Reply {
	t.Helper()
	rl.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	kind, body, buf, err := localput.ReadFrame(rl.c, rl.buf)
	rl.buf = buf
	if err != nil || kind != localput.KindReply {
		t.Fatalf("reply: kind %d, %v", kind, err)
	}
	r, err := localput.DecodeReply(body)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (rl *rawLocal) put(t *testing.T, p localput.Put) localput.Reply {
	t.Helper()
	f, err := localput.AppendPut(nil, p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rl.c.Write(f); err != nil {
		t.Fatal(err)
	}
	return rl.reply(t)
}

// A replicated volume's upload is sent back to HTTP, whose handler
// forwards it to the copies (here none can be found: no master).
func TestLocalPutReplicatedGoesToHTTP(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, dir, Config{})
	if _, err := s.store.AllocateVolume("", 6, superblock.PlacementFromByte(1), needle.TTL{}); err != nil {
		t.Fatal(err)
	}
	serveLocal(t, s, dir)
	a := newArena(t, 1<<20)
	w := client.NewChunkWriter(1)
	defer w.Close()
	for i := 0; i < 2; i++ {
		_, err := w.PutFrom(context.Background(), hostPort(s), "6,010c18c0eb", a, a.Bytes()[:100], nil, client.UploadOptions{})
		if client.StatusCode(err) != http.StatusInternalServerError || !strings.Contains(err.Error(), "replication failed") {
			t.Fatalf("upload %d to a replicated volume: %v, want the PUT's replication error", i, err)
		}
	}
	if s.localPuts.Load() != 0 || w.LocalPuts() != 0 {
		t.Fatal("a replicated volume's upload was stored through the socket")
	}
}

// Any Put a client sends is answered without a panic, and one that is
// stored reads back as the arena's bytes it named.
func FuzzLocalPut(f *testing.F) {
	if !localput.Supported {
		f.Skip("same-host uploads need Linux")
	}
	dir := f.TempDir()
	s := startServer(f, dir, Config{FileSizeLimit: 32 << 10})
	if _, err := s.store.AllocateVolume("", 3, superblock.ReplicaPlacement{}, needle.TTL{}); err != nil {
		f.Fatal(err)
	}
	a, err := localput.NewArena(64 << 10)
	if err != nil {
		f.Fatal(err)
	}
	defer a.Close()
	for i := range a.Bytes() {
		a.Bytes()[i] = byte(i*31 + i>>8)
	}
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		f.Fatal(err)
	}
	conn := func(fd int) *net.UnixConn {
		file := os.NewFile(uintptr(fd), "pair")
		defer file.Close()
		c, err := net.FileConn(file)
		if err != nil {
			f.Fatal(err)
		}
		return c.(*net.UnixConn)
	}
	cc, sc := conn(fds[0]), conn(fds[1])
	defer cc.Close()
	defer sc.Close()
	if err := a.SendHello(cc); err != nil {
		f.Fatal(err)
	}
	m, err := localput.ReceiveHello(sc, 1<<20)
	if err != nil {
		f.Fatal(err)
	}
	defer m.Close()
	f.Add(uint64(0), uint32(1000), "3,01637037d6", "", "", "", uint64(0), false, false)
	f.Add(uint64(4096), uint32(20000), "3,02637037d6", "3d", "a.txt", "text/plain", uint64(1700000000), true, true)
	f.Add(uint64(65530), uint32(10), "3,03637037d6", "", "", "", uint64(0), false, true)
	f.Add(uint64(1<<63), uint32(1<<31), "3/04637037d6/x.bin", "99y", "", "image/png", uint64(1<<63), false, true)
	f.Add(uint64(0), uint32(0), "9,01637037d6", "", "", "", uint64(0), false, false)
	f.Add(uint64(100), uint32(30000), "3,05637037d6", "", "", "", uint64(0), false, true)
	f.Fuzz(func(t *testing.T, off uint64, n uint32, fid, ttl, name, mime string, ts uint64, fsync, withCRC bool) {
		p := localput.Put{Offset: off, Length: n, Fid: fid, TTL: ttl, Name: name, Mime: mime, Timestamp: ts, Fsync: fsync}
		if withCRC {
			// The client's sum of the bytes it names (any when they lie
			// outside the arena: the server refuses those first).
			p.HasCRC, p.CRC = true, 0x5eed
			if off <= uint64(len(a.Bytes())) && uint64(n) <= uint64(len(a.Bytes()))-off {
				p.CRC = needle.CRC(a.Bytes()[off : off+uint64(n)])
			}
		}
		r := s.localPut(context.Background(), m, p)
		if r.Status/100 != 2 {
			if r.Error == "" {
				t.Fatalf("status %d without an error text", r.Status)
			}
			return
		}
		want := a.Bytes()[off : off+uint64(n)]
		t2, err := parseTarget("/" + fid)
		if err != nil {
			t.Fatalf("stored under a fid that does not parse: %q", fid)
		}
		v, err := s.store.Volume(t2.fid.VolumeID)
		if err != nil {
			t.Fatal(err)
		}
		got, err := v.Read(context.Background(), t2.fid.Key, t2.fid.Cookie, storage.ReadOptions{})
		if errors.Is(err, storage.ErrExpired) && ttl != "" {
			return // a time to live counted from a last-modified time long past
		}
		if err != nil {
			t.Fatalf("stored %s does not read back: %v", fid, err)
		}
		data := got.Data
		if got.IsGzipped() {
			if data, err = gunzip(data); err != nil {
				t.Fatal(err)
			}
		}
		if !bytes.Equal(data, want) {
			t.Fatalf("%s reads back %d bytes, %d were named", fid, len(data), len(want))
		}
	})
}
