package mount

import (
	"context"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"weedfs.dev/weed/filer"
	"weedfs.dev/weed/filer/server"
	"weedfs.dev/weed/pb"
)

// savesFiler is a loopback stand-in for the filer's mount API that
// records each entry save and whether it asked for no sync.
type savesFiler struct {
	mu    sync.Mutex
	saves []recordedSave
}

type recordedSave struct {
	e      *filer.Entry
	noSync bool
}

func (s *savesFiler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodGet && r.URL.Path == server.MountPrefix+"entry":
		b, _ := proto.Marshal(filer.ToPB(&filer.Entry{FullPath: r.URL.Query().Get("path"), Mode: filer.DefaultDirMode}))
		w.Write(b)
	case r.Method == http.MethodPut && r.URL.Path == server.MountPrefix+"entry":
		b, _ := io.ReadAll(r.Body)
		var m pb.Entry
		if err := proto.Unmarshal(b, &m); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		s.saves = append(s.saves, recordedSave{e: filer.FromPB(&m), noSync: r.URL.Query().Get(server.MountNoSync) == "true"})
		s.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	default:
		http.NotFound(w, r)
	}
}

// take returns the saves recorded since the last call.
func (s *savesFiler) take() []recordedSave {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.saves
	s.saves = nil
	return out
}

// TestFlushSaveDurability: close saves the entry once, unsynced, and
// returns after the filer answered; fsync of an entry last saved
// unsynced saves it again synced, and again only after a change; a save
// that drops chunks is synced even from close.
func TestFlushSaveDurability(t *testing.T) {
	sf := &savesFiler{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: sf}
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })
	fsys, err := New(context.Background(), Options{Filer: ln.Addr().String(), Masters: []string{"127.0.0.1:1"}, OpTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	go fsys.wb.run(context.Background())
	fsys.rootNode = &node{fsys: fsys}
	n := &node{fsys: fsys, parent: fsys.rootNode, name: "f"}
	fsys.rootNode.kids = map[string]*node{"f": n}
	// The folder is known whole (listed, or made here): /f is new.
	fsys.meta.markEmpty("/")
	f := newOpenFile(fsys, &filer.Entry{FullPath: "/f", Mode: 0o644, Mtime: time.Now()})
	ctx := context.Background()
	check := func(step string, wantNoSync ...bool) []recordedSave {
		t.Helper()
		got := sf.take()
		if len(got) != len(wantNoSync) {
			t.Fatalf("%s: %d saves, want %d", step, len(got), len(wantNoSync))
		}
		for i, s := range got {
			if s.noSync != wantNoSync[i] {
				t.Fatalf("%s: save %d nosync=%v, want %v", step, i, s.noSync, wantNoSync[i])
			}
		}
		return got
	}

	f.mu.Lock()
	f.write([]byte("hello"), 0)
	f.mu.Unlock()
	if err := f.flush(ctx, n, false); err != nil {
		t.Fatal(err)
	}
	if got := check("close", true); string(got[0].e.Content) != "hello" || got[0].e.FullPath != "/f" {
		t.Fatalf("close saved %s %q", got[0].e.FullPath, got[0].e.Content)
	}
	if err := f.flush(ctx, n, false); err != nil {
		t.Fatal(err)
	}
	check("close with nothing new")
	if err := f.flush(ctx, n, true); err != nil {
		t.Fatal(err)
	}
	check("fsync after close", false)
	if err := f.flush(ctx, n, true); err != nil {
		t.Fatal(err)
	}
	check("fsync again")

	// Chunks added: unsynced; chunks dropped: synced.
	f.mu.Lock()
	f.entry.Content = nil
	f.entry.Chunks = []filer.Chunk{{Fid: "1,a01", Size: 5}}
	f.changed()
	f.mu.Unlock()
	if err := f.flush(ctx, n, false); err != nil {
		t.Fatal(err)
	}
	check("close after chunks were added", true)
	f.mu.Lock()
	truncateEntry(f.entry, 0)
	f.changed()
	f.mu.Unlock()
	if err := f.flush(ctx, n, false); err != nil {
		t.Fatal(err)
	}
	check("close after chunks were dropped", false)
}
