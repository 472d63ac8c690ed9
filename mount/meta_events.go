package mount

import (
	"strings"
	"time"

	"weedfs.dev/weed/filer"
)

// Events of other clients, and answers that raced with them.
//
// The mount sends its signature with every change it makes, and the filer
// leaves those changes out of the mount's change feed: every event that
// arrives was made elsewhere (with a filer that ignores signatures, the
// mount's own come back too, and find the cache already agreeing). An
// event is applied to the cache only when the cache holds the version the
// event replaced (or nothing): then the cache follows the filer's order.
// Otherwise the cache and the event disagree on what came before, and the
// cached entry is dropped, so the next use asks the filer.
//
// An answer of the filer (a lookup, a listing, the reply to a save) is
// cached only when no event touched its path while it was asked: an event
// that raced with it may be newer than the answer, and caching the answer
// after the event would bring back what the event replaced. The cache
// keeps the paths of the last evRingSize events for that; an answer that
// waited through more events than that is not cached.

// evRingSize is how many events' paths the cache remembers.
const evRingSize = 1024

// eventLog is the paths of the last events applied, by sequence number.
type eventLog struct {
	seq  uint64 // of the last event recorded
	ring [evRingSize]string
}

// record notes an event touching path p. m.mu is held.
func (l *eventLog) record(p string) {
	l.seq++
	l.ring[l.seq%evRingSize] = p
}

// touched reports whether an event after seq touched p, a path under p,
// or a folder above p (a rename or delete of it). m.mu is held.
func (l *eventLog) touched(p string, seq uint64) bool {
	if l.seq-seq >= evRingSize {
		return l.seq != seq
	}
	for s := seq + 1; s <= l.seq; s++ {
		q := l.ring[s%evRingSize]
		if q == p || within(p, q) || within(q, p) {
			return true
		}
	}
	return false
}

// within reports whether path p is below folder dir.
func within(p, dir string) bool {
	if dir == "/" {
		return p != "/"
	}
	return len(p) > len(dir) && p[len(dir)] == '/' && strings.HasPrefix(p, dir)
}

// eventSeq returns the sequence number of the last event applied: an
// answer asked of the filer after it is cached with putAfter or
// putDirAfter.
func (m *metaCache) eventSeq() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.events.seq
}

// putAfter caches e, an answer of the filer asked after event seq (or
// the version of a save sent after it), unless an event touched its path
// since; then the path is forgotten instead. It reports whether e was
// cached.
func (m *metaCache) putAfter(e *filer.Entry, seq uint64) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.events.touched(e.FullPath, seq) {
		m.dropSubtree(e.FullPath)
		delete(m.complete, filer.Dir(e.FullPath))
		return false
	}
	if len(m.entries) >= maxCachedEntries {
		m.reset()
	}
	m.set(e.FullPath, withoutContent(e, time.Now()), e)
	return true
}

// putDirAfter is putDir for a listing asked after event seq: not cached
// when an event touched the folder or anything in it since.
func (m *metaCache) putDirAfter(dir string, children []*filer.Entry, seq uint64) {
	m.mu.Lock()
	touched := m.events.touched(dir, seq)
	m.mu.Unlock()
	if !touched {
		m.putDir(dir, children)
	}
}

// applyEvent brings the cache up to date with an event of another client:
// oldE is what it replaced (nil: a create), newE what it made (nil: a
// delete); a rename has both, at different paths. staged reports whether
// this mount holds an unsaved version of a path (it will overwrite the
// event's). It returns the paths whose cached state changed, for the
// kernel to forget.
func (m *metaCache) applyEvent(oldE, newE *filer.Entry, staged func(string) bool) (changed []string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if newE != nil {
		p := newE.FullPath
		var before *filer.Entry
		if oldE != nil && oldE.FullPath == p {
			before = oldE
		}
		switch {
		case m.shows(p, newE):
			// Already known (this mount's own change, echoed by a filer
			// that ignores signatures): nothing is news.
		case staged(p):
			m.events.record(p)
		default:
			m.events.record(p)
			if len(m.entries) >= maxCachedEntries {
				m.reset()
			}
			if m.follows(p, before) && complete(newE) {
				m.set(p, withoutContent(newE, time.Now()), newE)
			} else {
				m.forgetEntry(p) // the name exists; its entry is asked again
			}
			changed = append(changed, p)
		}
	}
	if oldE != nil && (newE == nil || newE.FullPath != oldE.FullPath) {
		p := oldE.FullPath
		if !m.shows(p, nil) {
			m.events.record(p)
			if !staged(p) {
				if m.follows(p, oldE) {
					m.dropSubtree(p) // gone: its folder stays complete
				} else {
					m.dropSubtree(p)
					delete(m.complete, filer.Dir(p))
				}
			}
			changed = append(changed, p)
		}
	}
	return changed
}

// shows reports whether the cache shows p as e (nil: absent). m.mu is
// held.
func (m *metaCache) shows(p string, e *filer.Entry) bool {
	c, ok := m.entries[p]
	if e == nil {
		if ok {
			return false
		}
		_, complete := m.complete[filer.Dir(p)]
		return complete
	}
	if !ok || c.e == nil {
		return false
	}
	return sameVersion(c, e)
}

// follows reports whether an event that replaced before (nil: made p)
// follows what the cache knows of p: the cache holds before, or nothing
// definite (an absent path, or a name whose entry is not cached). m.mu
// is held.
func (m *metaCache) follows(p string, before *filer.Entry) bool {
	c, ok := m.entries[p]
	if !ok || c.e == nil {
		return true
	}
	return before != nil && sameVersion(c, before)
}

// sameVersion compares a cached entry with an event's. Inline content
// is compared only when both have it: the cache may keep an entry
// without it, and a filer may leave it out of the replaced entry of an
// event.
func sameVersion(c cachedEntry, e *filer.Entry) bool {
	a := c.e
	if c.full != nil {
		a = c.full
	}
	if c.partial && c.full == nil || len(e.Content) == 0 && len(a.Content) > 0 {
		e2 := *e
		e2.Content = nil
		a2 := *a
		a2.Content = nil
		return sameEntry(&a2, &e2)
	}
	return sameEntry(a, e)
}

// complete reports whether e holds all of its file's bytes (an event's
// entry without its inline content is not cached).
func complete(e *filer.Entry) bool {
	return e.IsDirectory() || e.SymlinkTarget != "" || len(e.Chunks) > 0 || uint64(len(e.Content)) == e.FileSize
}
