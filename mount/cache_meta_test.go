package mount

import (
	"bytes"
	"fmt"
	"testing"

	"weedfs.dev/weed/filer"
)

func contentEntry(p string, size int, fill byte) *filer.Entry {
	return &filer.Entry{FullPath: p, Mode: 0o644, FileSize: uint64(size), Content: bytes.Repeat([]byte{fill}, size)}
}

// TestMetaCacheContentBudget: the cache keeps the inline content of the
// entries it cached last within maxCachedContent, forgets it with the
// entry, and gives it all back when trimmed.
func TestMetaCacheContentBudget(t *testing.T) {
	m := newMetaCache()
	m.put(&filer.Entry{FullPath: "/d", Mode: filer.DefaultDirMode})
	const size = 100 << 10
	n := 2 * maxCachedContent / size
	for i := 0; i < n; i++ {
		m.put(contentEntry(fmt.Sprintf("/d/f%d", i), size, byte(i)))
	}
	if m.contentBytes > maxCachedContent {
		t.Fatalf("content kept %d bytes, bound %d", m.contentBytes, maxCachedContent)
	}
	first, _, partial := m.get("/d/f0")
	if first == nil || !partial || first.Content != nil {
		t.Fatalf("oldest entry: %v partial %v, want its metadata without content", first, partial)
	}
	last, _, partial := m.get(fmt.Sprintf("/d/f%d", n-1))
	if last == nil || partial || !bytes.Equal(last.Content, bytes.Repeat([]byte{byte(n - 1)}, size)) {
		t.Fatalf("newest entry: partial %v, content kept %v", partial, last != nil && last.Content != nil)
	}

	// A new version replaces the old content; a removal gives it back.
	before := m.contentBytes
	m.put(contentEntry(fmt.Sprintf("/d/f%d", n-1), 10, 'x'))
	if got, _, _ := m.get(fmt.Sprintf("/d/f%d", n-1)); !bytes.Equal(got.Content, []byte("xxxxxxxxxx")) {
		t.Fatalf("replaced entry shows %q", got.Content[:min(10, len(got.Content))])
	}
	if want := before - size + 10; m.contentBytes != want {
		t.Fatalf("after a replace %d bytes kept, want %d", m.contentBytes, want)
	}
	m.remove("/d")
	if m.contentBytes != 0 {
		t.Fatalf("after removing the folder %d bytes kept", m.contentBytes)
	}

	// Trimmed: metadata stays, content goes.
	m.put(contentEntry("/e/a", 5, 'a'))
	m.trimContent()
	if e, _, partial := m.get("/e/a"); e == nil || !partial || m.contentBytes != 0 {
		t.Fatalf("after trim: %v partial %v, %d bytes", e, partial, m.contentBytes)
	}
	// Entries too large for a share of the budget are kept without.
	m.put(contentEntry("/e/big", maxCachedContent/8, 'b'))
	if _, _, partial := m.get("/e/big"); !partial {
		t.Fatal("an entry of an eighth of the budget kept its content")
	}
}

// TestMetaCacheInvalidatedNameExists: a name invalidated in a folder
// known whole is not answered as absent (it exists; its entry is asked
// for).
func TestMetaCacheInvalidatedNameExists(t *testing.T) {
	m := newMetaCache()
	m.putDir("/d", []*filer.Entry{{FullPath: "/d/a", Mode: 0o644}})
	if _, absent, _ := m.get("/d/b"); !absent {
		t.Fatal("a name missing from a complete folder is not known absent")
	}
	m.invalidateEntry("/d/a")
	e, absent, _ := m.get("/d/a")
	if e != nil || absent {
		t.Fatalf("invalidated name: entry %v, absent %v; want neither", e, absent)
	}
	if _, absent, _ := m.get("/d/b"); !absent {
		t.Fatal("the folder stopped being complete")
	}
}

// TestFreesChunks: a save that drops chunks of the version the filer may
// have (or of an unknown version) is made durable; one that only adds
// chunks, or makes a new file, is not.
func TestFreesChunks(t *testing.T) {
	fsys := &FS{meta: newMetaCache()}
	fsys.wb = newWriteBack(fsys)
	a, b := filer.Chunk{Fid: "1,a01"}, filer.Chunk{Fid: "1,b02"}
	fsys.meta.putDir("/d", []*filer.Entry{{FullPath: "/d/f", Mode: 0o644, Chunks: []filer.Chunk{a}}})
	for _, tc := range []struct {
		e    *filer.Entry
		want bool
	}{
		{&filer.Entry{FullPath: "/d/f", Chunks: []filer.Chunk{a, b}}, false}, // appended
		{&filer.Entry{FullPath: "/d/f", Chunks: []filer.Chunk{b}}, true},     // rewritten
		{&filer.Entry{FullPath: "/d/f", Content: []byte("x")}, true},         // truncated, inline
		{&filer.Entry{FullPath: "/d/new", Chunks: []filer.Chunk{b}}, false},  // known absent
		{&filer.Entry{FullPath: "/other/f", Chunks: []filer.Chunk{b}}, true}, // unknown
		{&filer.Entry{FullPath: "/other/g", Mode: filer.DefaultDirMode}, false},
	} {
		if got := fsys.freesChunks(tc.e); got != tc.want {
			t.Errorf("%s with %d chunks: frees %v, want %v", tc.e.FullPath, len(tc.e.Chunks), got, tc.want)
		}
	}
}
