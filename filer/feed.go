package filer

import (
	"context"
	"fmt"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	"weedfs.dev/weed/pb"
)

// feedState is what followers of the feed share: the log of this
// filer's recent events and the followers to wake when it grows.
type feedState struct {
	log eventLog

	mu sync.Mutex
	// waiters are the followers; each is woken only by events it wants,
	// so a follower that leaves out this filer's events (a mount's own,
	// by signature) is not woken by every commit.
	waiters map[*feedWaiter]struct{}
}

// feedWaiter is one follower's wake-up: a signal is kept (capacity 1)
// until the follower looks, so none is lost between its look at the log
// and its wait.
type feedWaiter struct {
	prefix string
	skip   int32
	ch     chan struct{}
}

func (w *feedWaiter) wake() {
	select {
	case w.ch <- struct{}{}:
	default:
	}
}

func (s *feedState) init() {
	s.log.init()
	s.waiters = map[*feedWaiter]struct{}{}
}

// follow registers a follower; the caller calls unfollow when it ends.
func (s *feedState) follow(prefix string, skip int32) *feedWaiter {
	w := &feedWaiter{prefix: prefix, skip: skip, ch: make(chan struct{}, 1)}
	s.mu.Lock()
	s.waiters[w] = struct{}{}
	s.mu.Unlock()
	return w
}

func (s *feedState) unfollow(w *feedWaiter) {
	s.mu.Lock()
	delete(s.waiters, w)
	s.mu.Unlock()
}

// publish logs the events of a committed transaction and wakes the
// followers that want one of them.
func (s *feedState) publish(p *pendingEvents) {
	if len(p.evs) == 0 {
		return
	}
	s.log.publish(time.Now(), p.evs)
	s.mu.Lock()
	defer s.mu.Unlock()
	for w := range s.waiters {
		for _, e := range p.evs {
			if e.meta.matches(w.prefix, w.skip) {
				w.wake()
				break
			}
		}
	}
}

// abandon forgets the events of a transaction that failed.
func (s *feedState) abandon(p *pendingEvents) {
	if len(p.evs) > 0 {
		s.log.abandon(p.evs)
	}
}

// close wakes every follower (the filer is closing).
func (s *feedState) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for w := range s.waiters {
		w.wake()
	}
}

// recordEvent writes the change old -> e (either may be nil) to the feed,
// inside ctx's transaction.
func (f *Filer) recordEvent(ctx context.Context, old, e *Entry, deleteChunks bool) error {
	now := f.now()
	ev := &pb.EntryEvent{TsNs: now.UnixNano(), DeleteChunks: deleteChunks, Signatures: signaturesFrom(ctx)}
	if old != nil {
		ev.OldEntry = ToPB(old)
	}
	if e != nil {
		ev.NewEntry = ToPB(e)
		ev.NewParentPath = Dir(e.FullPath)
	}
	stored, err := encodeStored(ev)
	if err != nil {
		return fmt.Errorf("encode event: %w", err)
	}
	key := f.keys.next(eventPrefix, now)
	if err := f.store.KvPut(ctx, key, stored); err != nil {
		return fmt.Errorf("record event: %w", err)
	}
	if p := pendingFrom(ctx); p != nil {
		// The log keeps the whole event for the followers caught up.
		whole := stored
		if ev.GetOldEntry().GetContent() != nil || ev.GetNewEntry().GetContent() != nil {
			if whole, err = proto.Marshal(ev); err != nil {
				return fmt.Errorf("encode event: %w", err)
			}
		}
		f.feed.log.record(key)
		p.add(&loggedEvent{key: key, ts: time.Unix(0, ev.TsNs), raw: whole, meta: metaOf(ev)})
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
		err := f.scanEventKeys(ctx, nil, feedPage, func(k, _ []byte) bool {
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
