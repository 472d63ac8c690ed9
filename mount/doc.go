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
// close(2) and fsync(2) wait for the file's uploads and then commit its
// entry (chunk list, size, attributes) to the filer; other clients see
// the file from then on. Changes made elsewhere reach this mount through
// the change feed (normally within a second): cached entries that differ
// are dropped and the kernel's caches of them invalidated. While the feed
// is down, cached entries are trusted for at most staleAfter; once it
// reconnects the whole cache is dropped, since events may have been missed.
//
// # Failures
//
// Every call to the filer has Options.OpTimeout; a filer that does not
// answer makes operations fail with EIO, and they work again once it is
// back. Chunk uploads and reads have Options.IOTimeout.
package mount
