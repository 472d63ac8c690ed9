package filer

import (
	"fmt"
	"testing"
	"time"
)

func logged(i int, size int) *loggedEvent {
	return &loggedEvent{key: []byte(fmt.Sprintf("ev/%08d", i)), raw: make([]byte, size)}
}

// The log hands out its events in publication order from any position it
// still holds, reports positions it dropped (by count, bytes or age) as
// lost, and tells which keys a follower at a position will get from it.
func TestEventLogPositionsAndBounds(t *testing.T) {
	var l eventLog
	l.init()
	l.maxCount, l.maxBytes, l.maxAge = 4, 1000, time.Minute
	t0 := time.Unix(1000, 0)

	// Recorded, not yet published: due from the log to any follower.
	a := logged(0, 10)
	l.record(a.key)
	if !l.later(a.key, 0) || !l.later(a.key, 99) {
		t.Fatal("a pending event is not left to the log")
	}
	l.publish(t0, []*loggedEvent{a})
	if !l.later(a.key, 0) || l.later(a.key, 1) {
		t.Fatal("a published event at position 0 is due to a follower at 0 only")
	}
	// An abandoned transaction's key is forgotten.
	gone := logged(99, 10)
	l.record(gone.key)
	l.abandon([]*loggedEvent{gone})
	if l.later(gone.key, 0) || l.get(gone.key) != nil {
		t.Fatal("an abandoned event is still known")
	}

	for i := 1; i < 4; i++ {
		l.publish(t0, []*loggedEvent{logged(i, 10)})
	}
	evs, next, lost := l.since(1, nil)
	if lost || next != 4 || len(evs) != 3 || string(evs[0].key) != "ev/00000001" || string(evs[2].key) != "ev/00000003" {
		t.Fatalf("since(1): %d events, next %d, lost %v", len(evs), next, lost)
	}
	if evs, next, lost := l.since(4, nil); lost || next != 4 || len(evs) != 0 {
		t.Fatalf("since(end): %d events, next %d, lost %v", len(evs), next, lost)
	}

	// A fifth event drops the first (count bound).
	l.publish(t0, []*loggedEvent{logged(4, 10)})
	if _, next, lost := l.since(0, nil); !lost || next != 5 {
		t.Fatalf("since(0) after the count bound: next %d, lost %v", next, lost)
	}
	if l.get(a.key) != nil || l.len() != 4 {
		t.Fatalf("the dropped event is still held (%d held)", l.len())
	}
	// A large event drops older ones until the bytes fit.
	l.publish(t0, []*loggedEvent{logged(5, 980)})
	if l.len() != 3 || l.bytes != 1000 {
		t.Fatalf("after a large event: %d held, %d bytes", l.len(), l.bytes)
	}
	// Age: a publication a minute later drops everything older.
	l.publish(t0.Add(2*time.Minute), []*loggedEvent{logged(6, 1)})
	if l.len() != 1 {
		t.Fatalf("after the age bound: %d held", l.len())
	}
	evs, next, lost = l.since(6, nil)
	if lost || next != 7 || len(evs) != 1 || evs[0].pos != 6 {
		t.Fatalf("since(6): %d events, next %d, lost %v", len(evs), next, lost)
	}
	// Many publications keep the slice bounded (its front is reused).
	for i := 7; i < 1000; i++ {
		l.publish(t0.Add(2*time.Minute), []*loggedEvent{logged(i, 1)})
	}
	if l.len() != 4 || len(l.items) > 200 {
		t.Fatalf("after 1000 events: %d held in a slice of %d", l.len(), len(l.items))
	}
}
