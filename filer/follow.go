package filer

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"

	"weedfs.dev/weed/pb"
)

// Timing of the change feed.
const (
	// feedPoll is how often a follower caught up looks for events other
	// filers sharing the store wrote (this filer's own that it wants wake
	// it at once; those it leaves out it passes over at these looks).
	feedPoll = 500 * time.Millisecond
	// feedLag is how far back a follower looks again for events whose
	// transaction committed after a later one's: a transaction takes its
	// event key before it commits, so keys can appear out of order.
	feedLag = 2 * time.Second
	// feedPage is how many events one scan reads.
	feedPage = 512
	// feedLookBack is how often a follower caught up reads the keys of
	// the whole feedLag window again; in between it reads only the log
	// of this filer's events.
	feedLookBack = feedPoll
)

// FollowOptions select the events Follow delivers.
type FollowOptions struct {
	// Since: events at or after this time (an event at exactly Since may be
	// delivered again to a follower resuming from its last event's time).
	Since time.Time
	// Prefix: only events touching this path or below ("" or "/": all).
	Prefix string
	// Heartbeat: when no event came for this long, fn is called with an
	// event carrying only TsNs (now); 0 disables heartbeats.
	Heartbeat time.Duration
	// SkipSignature: events whose signatures hold it are not delivered
	// (the follower made those changes itself; see WithSignature). 0
	// skips nothing.
	SkipSignature int32
	// Idle, when set, is called each time the follower delivered every
	// event it found and is about to wait for more (a stream flushes
	// its buffer there); its error ends Follow.
	Idle func() error
}

// Follow calls fn with every event of the feed from o.Since, then with
// new events as they are recorded, until ctx ends or fn fails. fn must
// not change the event: followers share it.
//
// # Order
//
// This filer's events reach a follower in the order they were published,
// which is after each transaction committed; changes of one path are
// serialised by path locks across their commit, so they come in the
// order they were made. The follower first reads the store from o.Since in
// key order (time, then a sequence number of the filer that wrote the
// event), skipping this filer's events published (or still committing)
// after it started; once caught up it reads those, and every later one,
// from this filer's log of recent events, a few milliseconds after each
// commit. Every feedLookBack it reads the keys of the last feedLag of the
// store again, for events of other filers sharing the store: those come
// in key order within feedLookBack of their commit (feedPoll when idle),
// and may interleave with this filer's out of time order; an event of
// another filer whose transaction committed more than feedLag after it
// took its key may be missed by a follower that was caught up. No event
// is delivered twice. A follower that falls further behind than the log
// holds (eventLogCount, eventLogBytes, eventLogAge) reads the store again
// from feedLag before the newest event it saw, in key order.
//
// # Cost
//
// Caught up, a follower is woken only by a commit of an event it wants
// (under its Prefix, without its SkipSignature), and a wake costs a look
// at the log; the store is read every feedLookBack, keys alone when it is
// a KvKeyScanner, and an event of this filer found there is taken from
// the log instead of being read and decoded again.
func (f *Filer) Follow(ctx context.Context, o FollowOptions, fn func(*pb.EntryEvent) error) error {
	return f.follow(ctx, o, func(_ []byte, decoded func() (*pb.EntryEvent, error)) error {
		ev, err := decoded()
		if err != nil {
			return nil // not an event: skipped, as the stream does
		}
		return fn(ev)
	})
}

// FollowEncoded is Follow handing fn each event encoded (what DecodeEvent
// reads), heartbeats too. fn may not keep the slice.
func (f *Filer) FollowEncoded(ctx context.Context, o FollowOptions, fn func(raw []byte) error) error {
	return f.follow(ctx, o, func(raw []byte, _ func() (*pb.EntryEvent, error)) error { return fn(raw) })
}

// deliverFunc gets one event: encoded, and a way to decode it (which
// shares the decoded form with the other followers when it can).
type deliverFunc func(raw []byte, decoded func() (*pb.EntryEvent, error)) error

func (f *Filer) follow(ctx context.Context, o FollowOptions, deliver deliverFunc) error {
	prefix := strings.TrimSuffix(o.Prefix, "/")
	start := timeKey(eventPrefix, o.Since)
	// seen holds the keys delivered within feedLag of the newest, so a
	// rescan of that window delivers nothing twice.
	seen := map[string]time.Time{}
	var newest, lastLook time.Time
	lastSent := time.Now()
	// window is where a look back starts: feedLag before the newest
	// event, not before Since.
	window := func() time.Time {
		back := newest.Add(-feedLag)
		if newest.IsZero() || back.Before(o.Since) {
			back = o.Since
		}
		return back
	}
	// The log is read from its end as it was before the first scan:
	// the scans leave to the log what was published later (or was still
	// committing when they met it).
	cursor := f.feed.log.end()
	scanning := true // reading the store page after page, not the log
	var logged []*loggedEvent
	waiter := f.feed.follow(prefix, o.SkipSignature)
	defer f.feed.unfollow(waiter)
	for {
		if !scanning {
			var lost bool
			logged, cursor, lost = f.feed.log.since(cursor, logged[:0])
			if lost {
				// Fell behind the log: the store has the events (cursor
				// is the log's end now: the scans deliver what it held).
				scanning, start = true, timeKey(eventPrefix, window())
				continue
			}
			for i, e := range logged {
				logged[i] = nil
				if e.ts.Before(o.Since) {
					continue
				}
				if _, ok := seen[string(e.key)]; ok {
					continue
				}
				seen[string(e.key)] = e.ts
				if e.ts.After(newest) {
					newest = e.ts
				}
				if !e.meta.matches(prefix, o.SkipSignature) {
					continue
				}
				if err := deliver(e.raw, func() (*pb.EntryEvent, error) { return f.feed.log.decoded(e) }); err != nil {
					return err
				}
				lastSent = time.Now()
			}
		}
		if scanning || time.Since(lastLook) >= feedLookBack {
			last, err := f.scanStore(ctx, start, cursor, seen, &newest, prefix, o.SkipSignature, deliver, &lastSent)
			if err != nil {
				return err
			}
			if last != nil {
				start = last
				// More to read: go on after the page without waiting. The
				// keys of the last feedLag stay seen: the next look back
				// reads them again.
				scanning = true
				pruneSeen(seen, newest.Add(-feedLag))
				continue
			}
			lastLook = time.Now()
			start = timeKey(eventPrefix, window())
			// Forgetting is needed only as often as the window is read
			// whole (a map walk on every wake cost more than the scan).
			pruneSeen(seen, window())
			if scanning {
				// Caught up: what the log got meanwhile is due now.
				scanning = false
				continue
			}
		}
		if o.Idle != nil {
			if err := o.Idle(); err != nil {
				return err
			}
		}
		wait := feedPoll
		if o.Heartbeat > 0 {
			if d := o.Heartbeat - time.Since(lastSent); d < wait {
				wait = max(d, time.Millisecond)
			}
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-waiter.ch:
		case <-t.C:
		}
		t.Stop()
		if o.Heartbeat > 0 && time.Since(lastSent) >= o.Heartbeat {
			hb := &pb.EntryEvent{TsNs: time.Now().UnixNano()}
			raw, err := proto.Marshal(hb)
			if err != nil {
				return err
			}
			if err := deliver(raw, func() (*pb.EntryEvent, error) { return hb, nil }); err != nil {
				return err
			}
			lastSent = time.Now()
			if o.Idle != nil {
				if err := o.Idle(); err != nil {
					return err
				}
			}
		}
	}
}

// scanStore reads one page of the feed's keys from start and delivers
// the events of those not seen, marking them seen. After a whole page it
// returns the page's last key (there may be more), else nil.
func (f *Filer) scanStore(ctx context.Context, start []byte, cursor uint64, seen map[string]time.Time, newest *time.Time,
	prefix string, skip int32, deliver deliverFunc, lastSent *time.Time) (last []byte, err error) {
	fresh, n, last, err := f.scanFeed(ctx, start, cursor, seen)
	if err != nil {
		return nil, err
	}
	for _, k := range fresh {
		seen[string(k.key)] = k.ts
		if k.ts.After(*newest) {
			*newest = k.ts
		}
		raw, meta, decoded, err := f.eventAt(ctx, k)
		if errors.Is(err, ErrNotFound) || errors.Is(err, ErrCorrupt) {
			continue // trimmed since the scan, or not an event
		}
		if err != nil {
			return nil, err
		}
		if !meta.matches(prefix, skip) {
			continue
		}
		if err := deliver(raw, decoded); err != nil {
			return nil, err
		}
		*lastSent = time.Now()
	}
	if n >= feedPage && len(seen) > 0 {
		return last, nil
	}
	return nil, nil
}

// feedKey is a key of the feed a follower has not seen, with its value
// when the store gave it with the key and the log lacks it.
type feedKey struct {
	key []byte
	ts  time.Time
	raw []byte
}

// scanFeed reads up to feedPage keys of the feed from start and returns
// those not in seen nor due from the log after cursor, how many keys it
// read and the last one.
func (f *Filer) scanFeed(ctx context.Context, start []byte, cursor uint64, seen map[string]time.Time) (fresh []feedKey, n int, last []byte, err error) {
	err = f.scanEventKeys(ctx, start, feedPage, func(k, v []byte) bool {
		n++
		last = append(last[:0], k...)
		if _, ok := seen[string(k)]; ok {
			return true
		}
		if f.feed.log.later(k, cursor) {
			return true
		}
		ts, err := keyTime(eventPrefix, k)
		if err != nil {
			return true
		}
		fk := feedKey{key: bytes.Clone(k), ts: ts}
		if v != nil && f.feed.log.get(k) == nil {
			fk.raw = bytes.Clone(v)
		}
		fresh = append(fresh, fk)
		return true
	})
	return fresh, n, last, err
}

// scanEventKeys calls fn for the keys of the feed from start (nil: the
// first), at most limit of them, with their values unless the store can
// list keys alone (then v is nil).
func (f *Filer) scanEventKeys(ctx context.Context, start []byte, limit int, fn func(k, v []byte) bool) error {
	if ks, ok := f.store.(KvKeyScanner); ok {
		return ks.KvScanKeys(ctx, []byte(eventPrefix), start, limit, func(k []byte) bool { return fn(k, nil) })
	}
	return f.store.KvScan(ctx, []byte(eventPrefix), start, limit, func(k, v []byte) bool {
		if v == nil {
			v = []byte{} // an empty value is still a value
		}
		return fn(k, v)
	})
}

// eventAt is the event under k: from this filer's log, from the value
// the scan read, or read from the store.
func (f *Filer) eventAt(ctx context.Context, k feedKey) (raw []byte, meta eventMeta, decoded func() (*pb.EntryEvent, error), err error) {
	if e := f.feed.log.get(k.key); e != nil {
		return e.raw, e.meta, func() (*pb.EntryEvent, error) { return f.feed.log.decoded(e) }, nil
	}
	raw = k.raw
	if raw == nil {
		if raw, err = f.store.KvGet(ctx, k.key); err != nil {
			return nil, meta, nil, err
		}
	}
	ev, err := DecodeEvent(raw)
	if err != nil {
		return nil, meta, nil, err
	}
	if f.restoreContent(ctx, ev) {
		if raw, err = proto.Marshal(ev); err != nil {
			return nil, meta, nil, err
		}
	}
	return raw, metaOf(ev), func() (*pb.EntryEvent, error) { return ev, nil }, nil
}

// pruneSeen forgets keys older than t: no rescan reaches them again.
func pruneSeen(seen map[string]time.Time, t time.Time) {
	for k, ts := range seen {
		if ts.Before(t) {
			delete(seen, k)
		}
	}
}
