package filer

import "time"

// SetEventLogBounds changes the bounds of f's log of recent events, so a
// test can make a follower fall behind it.
func SetEventLogBounds(f *Filer, count, bytes int, age time.Duration) {
	f.feed.log.mu.Lock()
	defer f.feed.log.mu.Unlock()
	f.feed.log.maxCount, f.feed.log.maxBytes, f.feed.log.maxAge = count, bytes, age
}

// EventLogLen is how many events f's log holds.
func EventLogLen(f *Filer) int { return f.feed.log.len() }
