// Package mount serves a filer's namespace as a FUSE file system (weed
// mount), on github.com/hanwen/go-fuse/v2's fs API.
//
// It owns the kernel-facing side: inodes over filer paths, a metadata cache
// kept right by following the filer's change feed, open-file state that
// buffers writes into chunks uploaded straight to volume servers in the
// background, and a bounded chunk cache (memory, optionally disk) with
// read-ahead for reads. It never stores entries itself: every namespace
// change is a call to the filer's /internal/mount/ endpoints
// (filer/server/mount_api.go), and the filer decides conflicts and frees
// chunks an entry stops referencing.
//
// # Memory bounds
//
// Write buffers come from one pool of Options.WriteBuffers buffers of
// Options.ChunkSize bytes: a writer that finds the pool empty seals other
// files' partial buffers and waits for an upload to finish, so dirty data
// never exceeds WriteBuffers*ChunkSize. The read cache holds at most
// Options.ReadCacheChunks windows of ChunkSize bytes. The metadata cache
// holds at most maxCachedEntries entries and is dropped whole when full.
//
// # Consistency
//
// close(2) waits for the file's chunk uploads and then stages its entry
// (chunk list, size, attributes) in a write-back queue that saves it to
// the filer within milliseconds (writeBackDelay), coalescing the changes a
// program makes one after another (create, close, chown, chmod, utimes)
// into one save and running many saves at once; fsync(2) waits until the
// save is done. This mount sees staged entries at once (lookups and
// listings merge them); a rename or delete first saves everything staged,
// so no save lands on a path that moved. Changes made elsewhere reach this
// mount through the change feed (normally within a second): cached
// entries that differ are dropped and the kernel's caches of them
// invalidated. While the feed is down, cached entries are trusted for at
// most staleAfter; once it reconnects the whole cache is dropped, since
// events may have been missed. The metadata cache keeps no inline file
// content; opening a small file fetches it.
//
// # Failures
//
// Every call to the filer has Options.OpTimeout; a filer that does not
// answer makes operations fail with EIO, and they work again once it is
// back. Chunk uploads (retried with backoff) and reads have
// Options.IOTimeout. A staged save the filer refuses for being away is
// retried until it is back; a mount process killed before that loses it
// (its chunks are then orphans on the volume servers).
package mount
