package filer

import (
	"context"
	"sync"
	"time"

	"weedfs.dev/weed/pb"
)

// Bounds of the log of this filer's own recent events. A follower caught
// up reads it a few milliseconds after each commit; one that falls
// further behind than the log holds reads the store again, as it would
// without the log.
const (
	// eventLogAge: events logged longer ago than this are dropped (twice
	// the look-back window, so a look-back rarely misses the log for an
	// event of this filer).
	eventLogAge = 2 * feedLag
	// eventLogBytes bounds the encoded bytes logged (each event may also
	// be kept decoded once a Follow caller wanted it).
	eventLogBytes = 32 << 20
	// eventLogCount bounds the events logged.
	eventLogCount = 1 << 16
)

// eventMeta is what a follower filters on, known without decoding.
type eventMeta struct {
	oldPath, newPath string
	signatures       []int32
}

// matches reports whether the event touches prefix (see EventMatches)
// and does not carry skip (0: skips nothing).
func (m *eventMeta) matches(prefix string, skip int32) bool {
	if skip != 0 {
		for _, s := range m.signatures {
			if s == skip {
				return false
			}
		}
	}
	if prefix == "" || prefix == "/" {
		return true
	}
	under := func(p string) bool { return p != "" && (p == prefix || IsDescendant(p, prefix)) }
	return under(m.oldPath) || under(m.newPath)
}

func metaOf(ev *pb.EntryEvent) eventMeta {
	return eventMeta{oldPath: ev.GetOldEntry().GetFullPath(), newPath: ev.GetNewEntry().GetFullPath(), signatures: ev.Signatures}
}

// loggedEvent is one event of this filer as stored. Its decoded form is
// made by the first Follow caller that wants it and then shared
// read-only; the encoded form is what the recording kept (the entries
// handed to the filer may be changed by their owners after the call).
type loggedEvent struct {
	key   []byte
	ts    time.Time
	raw   []byte
	meta  eventMeta
	added time.Time
	pos   uint64         // set when published
	ev    *pb.EntryEvent // guarded by eventLog.mu
}

// eventLog holds this filer's recently committed events in the order
// they were published (after their commits; changes of one path are
// published in the order they were made, since path locks serialise
// them across the commit), and by key, so followers need not read back
// and decode what this process just wrote.
type eventLog struct {
	mu sync.Mutex
	// items[head:] are the logged events; items[head] is at position
	// first (positions count every event ever published).
	// Invariant: byKey holds exactly the keys of items[head:].
	items []*loggedEvent
	head  int
	first uint64
	byKey map[string]*loggedEvent
	bytes int
	// pending holds the keys of events recorded in transactions not yet
	// published (committing, or rolled back and not yet forgotten).
	pending map[string]struct{}
	// Bounds (eventLogCount, eventLogBytes, eventLogAge unless a test
	// set them).
	maxCount, maxBytes int
	maxAge             time.Duration
}

func (l *eventLog) init() {
	l.byKey = map[string]*loggedEvent{}
	l.pending = map[string]struct{}{}
	l.maxCount, l.maxBytes, l.maxAge = eventLogCount, eventLogBytes, eventLogAge
}

// record notes the key of an event recorded in a transaction: until the
// transaction is published or abandoned, a follower that meets the key in
// the store leaves it to the log.
func (l *eventLog) record(key []byte) {
	l.mu.Lock()
	l.pending[string(key)] = struct{}{}
	l.mu.Unlock()
}

// abandon forgets the keys of a transaction that did not commit.
func (l *eventLog) abandon(evs []*loggedEvent) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range evs {
		delete(l.pending, string(e.key))
	}
}

// later reports whether a follower that has read the log up to cursor
// will get the event under key from the log: it is pending, or logged at
// or after cursor. Store scans leave such events alone, so this filer's
// events reach each follower in the order they were published.
func (l *eventLog) later(key []byte, cursor uint64) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.pending[string(key)]; ok {
		return true
	}
	e := l.byKey[string(key)]
	return e != nil && e.pos >= cursor
}

// end is the position the next published event will have.
func (l *eventLog) end() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.first + uint64(len(l.items)-l.head)
}

// since appends to buf the events from position pos on and returns them
// with the position after them; lost reports that events from pos were
// dropped already (then nothing is returned).
func (l *eventLog) since(pos uint64, buf []*loggedEvent) (evs []*loggedEvent, next uint64, lost bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	end := l.first + uint64(len(l.items)-l.head)
	if pos < l.first {
		return buf, end, true
	}
	if pos >= end {
		return buf, end, false
	}
	return append(buf, l.items[l.head+int(pos-l.first):]...), end, false
}

// get returns the logged event under key, or nil.
func (l *eventLog) get(key []byte) *loggedEvent {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.byKey[string(key)]
}

// decoded returns e's event, decoding it on first use.
func (l *eventLog) decoded(e *loggedEvent) (*pb.EntryEvent, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e.ev == nil {
		ev, err := DecodeEvent(e.raw)
		if err != nil {
			return nil, err
		}
		e.ev = ev
	}
	return e.ev, nil
}

// publish logs the events of one committed transaction and drops what is
// over the bounds.
func (l *eventLog) publish(now time.Time, evs []*loggedEvent) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range evs {
		e.added = now
		e.pos = l.first + uint64(len(l.items)-l.head)
		l.byKey[string(e.key)] = e
		delete(l.pending, string(e.key))
		l.items = append(l.items, e)
		l.bytes += len(e.raw)
	}
	for l.head < len(l.items) {
		e := l.items[l.head]
		if len(l.items)-l.head <= l.maxCount && l.bytes <= l.maxBytes && now.Sub(e.added) <= l.maxAge {
			break
		}
		delete(l.byKey, string(e.key))
		l.bytes -= len(e.raw)
		l.items[l.head] = nil
		l.head++
		l.first++
	}
	// Reuse the slice's front once half of it is dropped events.
	if l.head > len(l.items)/2 && l.head >= 64 {
		n := copy(l.items, l.items[l.head:])
		clear(l.items[n:])
		l.items = l.items[:n]
		l.head = 0
	}
}

// len reports how many events are logged.
func (l *eventLog) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.items) - l.head
}

// pendingEvents collects the events of one transaction of Filer.tx; they
// are published once it commits. deletions tells that the transaction
// queued chunks for deletion (the deletion loop is woken then).
type pendingEvents struct {
	mu        sync.Mutex
	evs       []*loggedEvent
	deletions bool
}

type pendingKey struct{}

func (p *pendingEvents) add(e *loggedEvent) {
	p.mu.Lock()
	p.evs = append(p.evs, e)
	p.mu.Unlock()
}

func (p *pendingEvents) queued() {
	p.mu.Lock()
	p.deletions = true
	p.mu.Unlock()
}

func pendingFrom(ctx context.Context) *pendingEvents {
	p, _ := ctx.Value(pendingKey{}).(*pendingEvents)
	return p
}

// signaturesKey marks a context whose changes record signatures in their
// events.
type signaturesKey struct{}

// WithSignature returns a context whose namespace changes record sig in
// their events' signatures (SeaweedFS's way to name who made a change), so
// a follower that passes the same sig in FollowOptions.SkipSignature does
// not get back the changes it made itself. 0 adds nothing.
func WithSignature(ctx context.Context, sig int32) context.Context {
	if sig == 0 {
		return ctx
	}
	sigs := append(append([]int32(nil), signaturesFrom(ctx)...), sig)
	return context.WithValue(ctx, signaturesKey{}, sigs)
}

func signaturesFrom(ctx context.Context) []int32 {
	s, _ := ctx.Value(signaturesKey{}).([]int32)
	return s
}
