package mount

// FeedEvents is how many change-feed events (heartbeats left out) about
// paths under its root the mount has read.
func FeedEvents(fsys *FS) int64 {
	fsys.stats.mu.Lock()
	defer fsys.stats.mu.Unlock()
	return fsys.stats.n["feed event"]
}
