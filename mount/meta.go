package mount

import (
	"bytes"
	"strings"
	"sync"
	"time"

	"weedfs.dev/weed/filer"
)

// Bounds of the metadata cache.
const (
	// maxCachedEntries: past this many entries the cache is dropped whole
	// (cheaper than an LRU, and refilled by the next lookups).
	maxCachedEntries = 200000
	// staleAfter is how long a cached entry is trusted while the change
	// feed is not connected.
	staleAfter = time.Second
	// maxCachedContent bounds the inline content kept with cached
	// entries (bytes, those cached last kept): opening a small file just
	// listed (cp -r, tar c, diff -r read folder by folder) or written
	// then costs no filer request. An idle mount drops it.
	maxCachedContent = 8 << 20
)

type cachedEntry struct {
	// e is never changed once cached; nil marks a name known to exist
	// whose entry must be asked of the filer (so a complete folder does
	// not answer that it is absent).
	e  *filer.Entry
	at time.Time
	// partial: the inline content was left out (it would make the cache's
	// memory grow with the files' bytes); opening the file fetches it.
	partial bool
	// full is the entry with its inline content, while the content
	// budget keeps it.
	full *filer.Entry
}

// contentItem is one entry whose content the cache keeps, in the order
// they came.
type contentItem struct {
	p    string
	full *filer.Entry
}

// metaCache holds entries by filer path, and which folders are known
// completely (so a name missing from them is known absent). Entries are
// immutable snapshots; callers clone before changing one.
type metaCache struct {
	mu       sync.Mutex
	entries  map[string]cachedEntry
	complete map[string]time.Time
	// live is true while the change feed is connected: entries stay valid
	// until an event says otherwise.
	live bool
	// contents lists the entries kept with their content, oldest first
	// (items whose entry changed since are skipped); contentBytes is
	// what the kept ones hold.
	contents     []contentItem
	contentBytes int
	// events remembers what the last events touched (meta_events.go).
	events eventLog
}

func newMetaCache() *metaCache {
	return &metaCache{entries: map[string]cachedEntry{}, complete: map[string]time.Time{}}
}

// set caches c at p, keeping its content within the budget. m.mu is held.
func (m *metaCache) set(p string, c cachedEntry, e *filer.Entry) {
	m.forgetContent(p)
	if c.partial && len(e.Content) <= maxCachedContent/16 {
		c.full = e
		m.contentBytes += len(e.Content)
		m.contents = append(m.contents, contentItem{p: p, full: e})
	}
	m.entries[p] = c
	for m.contentBytes > maxCachedContent && len(m.contents) > 0 {
		it := m.contents[0]
		m.contents = m.contents[1:]
		if c, ok := m.entries[it.p]; ok && c.full == it.full {
			c.full = nil
			m.entries[it.p] = c
			m.contentBytes -= len(it.full.Content)
		}
	}
	if len(m.contents) > 4096 && len(m.contents) > 4*len(m.entries) {
		// Mostly items of entries changed since: keep the live ones.
		var kept []contentItem
		for _, it := range m.contents {
			if c, ok := m.entries[it.p]; ok && c.full == it.full {
				kept = append(kept, it)
			}
		}
		m.contents = kept
	}
}

// forgetContent gives back the content budget of the entry at p. m.mu
// is held.
func (m *metaCache) forgetContent(p string) {
	if c, ok := m.entries[p]; ok && c.full != nil {
		m.contentBytes -= len(c.full.Content)
		c.full = nil
		m.entries[p] = c
	}
}

// reset drops everything. m.mu is held.
func (m *metaCache) reset() {
	m.entries = map[string]cachedEntry{}
	m.complete = map[string]time.Time{}
	m.contents = nil
	m.contentBytes = 0
}

// trimContent drops the content kept (an idle mount gives memory back).
func (m *metaCache) trimContent() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, it := range m.contents {
		m.forgetContent(it.p)
	}
	m.contents = nil
	m.contentBytes = 0
}

func (m *metaCache) fresh(at time.Time) bool {
	return m.live || time.Since(at) < staleAfter
}

// get returns the cached entry at p (partial: without its inline
// content); absent reports p is known not to exist.
func (m *metaCache) get(p string) (e *filer.Entry, absent, partial bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if c, ok := m.entries[p]; ok && (c.e == nil || m.fresh(c.at)) {
		if c.full != nil {
			return c.full, false, false
		}
		return c.e, false, c.partial
	}
	if at, ok := m.complete[filer.Dir(p)]; ok && m.fresh(at) {
		if _, ok := m.entries[p]; !ok {
			return nil, true, false
		}
	}
	return nil, false, false
}

// put caches e, a version this mount made (or one no event can race
// with; answers of the filer go through putAfter).
func (m *metaCache) put(e *filer.Entry) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.entries) >= maxCachedEntries {
		m.reset()
	}
	m.set(e.FullPath, withoutContent(e, time.Now()), e)
}

// withoutContent is the cached form of e: inline content left out.
func withoutContent(e *filer.Entry, at time.Time) cachedEntry {
	if len(e.Content) == 0 {
		return cachedEntry{e: e, at: at}
	}
	c := *e
	c.Content = nil
	return cachedEntry{e: &c, at: at, partial: true}
}

// invalidateEntry forgets p (and its subtree) but not its folder's
// completeness: p changed, the folder's set of names did not (p is kept
// as a name that exists).
func (m *metaCache) invalidateEntry(p string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.forgetEntry(p)
}

// forgetEntry is invalidateEntry with m.mu held.
func (m *metaCache) forgetEntry(p string) {
	m.dropSubtree(p)
	if _, ok := m.complete[filer.Dir(p)]; ok {
		m.set(p, cachedEntry{at: time.Now()}, nil)
	}
}

// putDir records the whole listing of dir.
func (m *metaCache) putDir(dir string, children []*filer.Entry) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.entries)+len(children) >= maxCachedEntries {
		m.reset()
		if len(children) >= maxCachedEntries {
			return
		}
	}
	now := time.Now()
	for _, e := range children {
		m.set(e.FullPath, withoutContent(e, now), e)
	}
	m.complete[dir] = now
}

// markEmpty records a folder this mount just made: it has no children.
func (m *metaCache) markEmpty(dir string) {
	m.mu.Lock()
	m.complete[dir] = time.Now()
	m.mu.Unlock()
}

// remove forgets p (and its subtree) as deleted by this mount: its folder
// stays complete.
func (m *metaCache) remove(p string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.dropSubtree(p)
}

// invalidate forgets p, its subtree, and the completeness of its folder.
func (m *metaCache) invalidate(p string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.dropSubtree(p)
	delete(m.complete, filer.Dir(p))
}

func (m *metaCache) dropSubtree(p string) {
	m.forgetContent(p)
	c, cached := m.entries[p]
	_, listed := m.complete[p]
	delete(m.entries, p)
	delete(m.complete, p)
	// Only a folder this cache knows as one can have cached children
	// worth a scan; children of an unknown folder are reachable only by
	// looking it up first, which goes to the filer.
	if !listed && (!cached || c.e == nil || !c.e.IsDirectory()) {
		return
	}
	prefix := p + "/"
	if p == "/" {
		prefix = "/"
	}
	for k := range m.entries {
		if strings.HasPrefix(k, prefix) {
			m.forgetContent(k)
			delete(m.entries, k)
		}
	}
	for k := range m.complete {
		if strings.HasPrefix(k, prefix) {
			delete(m.complete, k)
		}
	}
}

// clear drops everything (after the feed reconnects).
func (m *metaCache) clear() {
	m.mu.Lock()
	m.reset()
	m.mu.Unlock()
}

func (m *metaCache) setLive(live bool) {
	m.mu.Lock()
	m.live = live
	m.mu.Unlock()
}

// sameEntry compares what a stat or read of the entry would show.
func sameEntry(a, b *filer.Entry) bool {
	if a.Mode != b.Mode || a.FileSize != b.FileSize || a.UID != b.UID || a.GID != b.GID ||
		!a.Mtime.Equal(b.Mtime) || a.SymlinkTarget != b.SymlinkTarget ||
		len(a.Chunks) != len(b.Chunks) || !bytes.Equal(a.Content, b.Content) ||
		len(a.Extended) != len(b.Extended) {
		return false
	}
	for i := range a.Chunks {
		if a.Chunks[i] != b.Chunks[i] {
			return false
		}
	}
	for k, v := range a.Extended {
		if !bytes.Equal(v, b.Extended[k]) {
			return false
		}
	}
	return true
}
