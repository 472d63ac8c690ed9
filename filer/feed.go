package filer

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	"weedfs.dev/weed/pb"
)

// Timing of the change feed.
const (
	// feedPoll is how often a follower caught up looks for events other
	// filers sharing the store wrote (this filer's own wake it at once).
	feedPoll = 500 * time.Millisecond
	// feedLag is how far back a follower looks again for events whose
	// transaction committed after a later one's: a transaction takes its
	// event key before it commits, so keys can appear out of order.
	feedLag = 2 * time.Second
	// feedPage is how many events one scan reads.
	feedPage = 512
	// feedLookBack is how often a follower caught up reads the whole
	// feedLag window again (each look reads every event in it); a scan
	// in between starts feedWakeLag before the newest event, which covers
	// this filer's transactions committing in the usual few milliseconds.
	feedLookBack = feedPoll
	feedWakeLag  = 10 * time.Millisecond
)

// notifier wakes every waiter at once: notify closes the channel waiters
// hold and makes a new one.
type notifier struct {
	mu sync.Mutex
	ch chan struct{}
}

func (n *notifier) init() { n.ch = make(chan struct{}) }

func (n *notifier) wait() <-chan struct{} {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.ch
}

func (n *notifier) notify() {
	n.mu.Lock()
	close(n.ch)
	n.ch = make(chan struct{})
	n.mu.Unlock()
}

func (n *notifier) close() { n.notify() }

// recordEvent writes the change old -> e (either may be nil) to the feed,
// inside ctx's transaction.
func (f *Filer) recordEvent(ctx context.Context, old, e *Entry, deleteChunks bool) error {
	now := f.now()
	ev := &pb.EntryEvent{TsNs: now.UnixNano(), DeleteChunks: deleteChunks}
	if old != nil {
		ev.OldEntry = ToPB(old)
	}
	if e != nil {
		ev.NewEntry = ToPB(e)
		ev.NewParentPath = Dir(e.FullPath)
	}
	b, err := proto.Marshal(ev)
	if err != nil {
		return fmt.Errorf("encode event: %w", err)
	}
	if err := f.store.KvPut(ctx, f.keys.next(eventPrefix, now), b); err != nil {
		return fmt.Errorf("record event: %w", err)
	}
	return nil
}

// DecodeEvent decodes one stored or streamed change-feed event.
func DecodeEvent(b []byte) (*pb.EntryEvent, error) {
	var ev pb.EntryEvent
	if err := proto.Unmarshal(b, &ev); err != nil {
		return nil, fmt.Errorf("decode event: %v: %w", err, ErrCorrupt)
	}
	return &ev, nil
}

// EventMatches reports whether ev touches the path prefix (the entry at
// prefix or below it, before or after the change).
func EventMatches(ev *pb.EntryEvent, prefix string) bool {
	if prefix == "" || prefix == "/" {
		return true
	}
	under := func(p string) bool {
		return p == prefix || IsDescendant(p, prefix)
	}
	return (ev.OldEntry != nil && under(ev.OldEntry.FullPath)) ||
		(ev.NewEntry != nil && under(ev.NewEntry.FullPath))
}

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
}

// Follow calls fn with every event of the feed from o.Since in time order,
// then with new events as they are recorded, until ctx ends or fn fails.
func (f *Filer) Follow(ctx context.Context, o FollowOptions, fn func(*pb.EntryEvent) error) error {
	prefix := strings.TrimSuffix(o.Prefix, "/")
	start := timeKey(eventPrefix, o.Since)
	// seen holds the keys delivered within feedLag of the newest, so a
	// rescan of that window delivers nothing twice.
	seen := map[string]time.Time{}
	var newest time.Time
	var lastLook time.Time
	lastSent := time.Now()
	for {
		wake := f.feed.wait()
		n := 0
		var last []byte
		var scanErr error
		err := f.store.KvScan(ctx, []byte(eventPrefix), start, feedPage, func(k, v []byte) bool {
			n++
			last = append(last[:0], k...)
			if _, ok := seen[string(k)]; ok {
				return true
			}
			ts, err := keyTime(eventPrefix, k)
			if err != nil {
				return true
			}
			seen[string(k)] = ts
			if ts.After(newest) {
				newest = ts
			}
			ev, err := DecodeEvent(v)
			if err != nil || !EventMatches(ev, prefix) {
				return true
			}
			if scanErr = fn(ev); scanErr != nil {
				return false
			}
			lastSent = time.Now()
			return true
		})
		if err == nil {
			err = scanErr
		}
		if err != nil {
			return err
		}
		if n >= feedPage && len(seen) > 0 {
			// More to read: go on after the page without waiting (a look
			// back goes through the whole window). The keys of the last
			// feedLag stay seen: the next look back reads them again.
			start = last
			f.pruneSeen(seen, newest.Add(-feedLag))
			continue
		}
		// Caught up: look back for late commits, feedLag at most every
		// feedLookBack, else feedWakeLag.
		if !newest.IsZero() {
			back := newest.Add(-feedLag)
			if back.Before(o.Since) {
				back = o.Since
			}
			f.pruneSeen(seen, back)
			from := newest.Add(-feedWakeLag)
			if time.Since(lastLook) >= feedLookBack {
				from = back
				lastLook = time.Now()
			}
			if from.Before(back) {
				from = back
			}
			start = timeKey(eventPrefix, from)
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
		case <-wake:
		case <-t.C:
		}
		t.Stop()
		if o.Heartbeat > 0 && time.Since(lastSent) >= o.Heartbeat {
			if err := fn(&pb.EntryEvent{TsNs: time.Now().UnixNano()}); err != nil {
				return err
			}
			lastSent = time.Now()
		}
	}
}

// pruneSeen forgets keys older than t: no rescan reaches them again.
func (f *Filer) pruneSeen(seen map[string]time.Time, t time.Time) {
	for k, ts := range seen {
		if ts.Before(t) {
			delete(seen, k)
		}
	}
}

// retentionLoop drops events older than EventRetention, checking every
// tenth of it (at most every minute).
func (f *Filer) retentionLoop(ctx context.Context) {
	every := min(f.opt.EventRetention/10, time.Minute)
	for {
		if _, err := f.TrimEvents(ctx); err != nil && ctx.Err() == nil {
			f.log.Warn("trim change feed", "err", err)
		}
		t := time.NewTimer(every)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// TrimEvents deletes the events older than EventRetention and returns how
// many it deleted.
func (f *Filer) TrimEvents(ctx context.Context) (int, error) {
	cutoff := f.now().Add(-f.opt.EventRetention)
	total := 0
	for {
		var old [][]byte
		err := f.store.KvScan(ctx, []byte(eventPrefix), nil, feedPage, func(k, _ []byte) bool {
			ts, err := keyTime(eventPrefix, k)
			if err == nil && !ts.Before(cutoff) {
				return false
			}
			old = append(old, append([]byte(nil), k...))
			return true
		})
		if err != nil {
			return total, err
		}
		for _, k := range old {
			if err := f.store.KvDelete(ctx, k); err != nil {
				return total, err
			}
		}
		total += len(old)
		if len(old) < feedPage {
			return total, nil
		}
	}
}
