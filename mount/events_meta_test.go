package mount

import (
	"testing"
	"time"

	"weedfs.dev/weed/filer"
)

func version(p string, mtime int64, content string) *filer.Entry {
	return &filer.Entry{FullPath: p, Mode: 0o644, Mtime: time.Unix(mtime, 0),
		FileSize: uint64(len(content)), Content: []byte(content)}
}

func noneStaged(string) bool { return false }

// cached returns what the cache answers for p: the entry, or "absent",
// or "ask" (the filer must be asked).
func cached(m *metaCache, p string) (*filer.Entry, string) {
	e, absent, _ := m.get(p)
	switch {
	case e != nil:
		return e, "entry"
	case absent:
		return nil, "absent"
	}
	return nil, "ask"
}

// TestEventFollowsCache: another client's event is applied when the cache
// holds the version it replaced (or nothing definite), and otherwise the
// cached entry is dropped, never replaced by the event's.
func TestEventFollowsCache(t *testing.T) {
	m := newMetaCache()
	m.putDir("/d", nil)
	l1 := version("/d/f", 1, "mine")
	m.put(l1)

	// Another client changed the version this mount has: applied.
	o1 := version("/d/f", 2, "theirs")
	if got := m.applyEvent(l1, o1, noneStaged); len(got) != 1 || got[0] != "/d/f" {
		t.Fatalf("changed paths %v, want [/d/f]", got)
	}
	if e, how := cached(m, "/d/f"); how != "entry" || string(e.Content) != "theirs" {
		t.Fatalf("after an event following the cache: %s %v, want the event's entry", how, e)
	}

	// An event replacing a version this mount never had (it raced with
	// a change of this mount's): neither version is trusted.
	o2 := version("/d/f", 3, "third")
	m.applyEvent(version("/d/f", 9, "other"), o2, noneStaged)
	if _, how := cached(m, "/d/f"); how != "ask" {
		t.Fatalf("after an event not following the cache: %s, want ask", how)
	}
	if _, how := cached(m, "/d/g"); how != "absent" {
		t.Fatalf("folder completeness lost: /d/g is %s", how)
	}

	// A create in a folder known whole is applied; so is the delete of
	// the version cached.
	g := version("/d/g", 4, "new")
	m.applyEvent(nil, g, noneStaged)
	if e, how := cached(m, "/d/g"); how != "entry" || string(e.Content) != "new" {
		t.Fatalf("created elsewhere: %s %v", how, e)
	}
	m.applyEvent(g, nil, noneStaged)
	if _, how := cached(m, "/d/g"); how != "absent" {
		t.Fatalf("deleted elsewhere: %s, want absent", how)
	}

	// The delete of a version this mount does not have: the path is
	// asked again (this mount may have made it anew).
	h := version("/d/h", 5, "mine")
	m.put(h)
	m.applyEvent(version("/d/h", 1, "old"), nil, noneStaged)
	if _, how := cached(m, "/d/h"); how != "ask" {
		t.Fatalf("delete of another version: %s, want ask", how)
	}

	// A path this mount holds a version of not yet saved is left alone:
	// that version overwrites the event's.
	s := version("/d/s", 6, "staged")
	m.put(s)
	m.applyEvent(nil, version("/d/s", 7, "theirs"), func(p string) bool { return p == "/d/s" })
	if e, how := cached(m, "/d/s"); how != "entry" || string(e.Content) != "staged" {
		t.Fatalf("staged path: %s %v, want the staged entry", how, e)
	}
}

// TestAnswerRacingEvent: an answer of the filer (a save's version, a
// lookup) asked before an event about its path arrived may be older than
// the event: it is not cached, and the next use asks the filer.
func TestAnswerRacingEvent(t *testing.T) {
	m := newMetaCache()
	m.putDir("/d", nil)
	l0 := version("/d/f", 1, "v0")
	m.put(l0)

	// A save of L1 is sent; meanwhile the event of another client's O1
	// arrives (the filer applied it before or after L1: unknown).
	seq := m.eventSeq()
	o1 := version("/d/f", 2, "theirs")
	m.applyEvent(l0, o1, noneStaged)
	l1 := version("/d/f", 3, "mine")
	if m.putAfter(l1, seq) {
		t.Fatal("a save's version that raced with an event was cached")
	}
	if _, how := cached(m, "/d/f"); how != "ask" {
		t.Fatalf("after the race: %s, want ask", how)
	}

	// Events about other paths do not stop an answer being cached.
	seq = m.eventSeq()
	m.applyEvent(nil, version("/d/other", 1, "x"), noneStaged)
	if !m.putAfter(l1, seq) {
		t.Fatal("an answer was dropped for an event about another path")
	}

	// A rename of the folder touches what is in it.
	seq = m.eventSeq()
	dir := &filer.Entry{FullPath: "/d", Mode: filer.DefaultDirMode}
	moved := &filer.Entry{FullPath: "/e", Mode: filer.DefaultDirMode}
	m.applyEvent(dir, moved, noneStaged)
	if m.putAfter(version("/d/f", 4, "late"), seq) {
		t.Fatal("an answer under a folder renamed meanwhile was cached")
	}

	// A listing that raced with an event inside the folder is not cached
	// as complete.
	m.putDir("/x", nil)
	m.invalidate("/x/a")
	seq = m.eventSeq()
	m.applyEvent(nil, version("/x/a", 1, "x"), noneStaged)
	m.putDirAfter("/x", nil, seq)
	if _, how := cached(m, "/x/b"); how == "absent" {
		t.Fatal("a listing that raced with a create made its folder complete")
	}
}

// TestOwnEchoIsNoNews: with a filer that ignores signatures, this mount's
// own change comes back; it finds the cache agreeing, changes nothing,
// and does not make a later save's answer suspect.
func TestOwnEchoIsNoNews(t *testing.T) {
	m := newMetaCache()
	m.putDir("/d", nil)
	l1 := version("/d/f", 1, "mine")
	m.put(l1)
	seq := m.eventSeq()
	if got := m.applyEvent(version("/d/f", 0, "before"), l1, noneStaged); len(got) != 0 {
		t.Fatalf("own echo changed %v", got)
	}
	if !m.putAfter(version("/d/f", 2, "next"), seq) {
		t.Fatal("own echo made the next save's answer suspect")
	}
}

// TestEventWithoutReplacedContent: a filer may leave the inline content
// out of the replaced entry of an event; the event still follows the
// cached version. An event whose new entry lacks the content its size
// needs is not cached.
func TestEventWithoutReplacedContent(t *testing.T) {
	m := newMetaCache()
	m.putDir("/d", nil)
	l1 := version("/d/f", 1, "mine")
	m.put(l1)
	old := *l1
	old.Content = nil
	m.applyEvent(&old, version("/d/f", 2, "theirs"), noneStaged)
	if e, how := cached(m, "/d/f"); how != "entry" || string(e.Content) != "theirs" {
		t.Fatalf("event without the replaced content: %s %v", how, e)
	}
	cur, _ := cached(m, "/d/f")
	short := version("/d/f", 3, "")
	short.FileSize = 10
	m.applyEvent(cur, short, noneStaged)
	if _, how := cached(m, "/d/f"); how != "ask" {
		t.Fatalf("event entry without its content: %s, want ask", how)
	}
}
