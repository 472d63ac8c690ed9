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
// Options.ReadCacheChunks windows of ChunkSize bytes, plus as many spare
// window buffers and those a read is being answered from. The metadata cache
// holds at most maxCachedEntries entries and is dropped whole when full,
// and keeps inline content of maxCachedContent bytes at most.
//
// # Consistency
//
// close(2) waits for the file's chunk uploads and then for the filer to
// have applied its entry (chunk list, size, attributes): when close
// returns every client of the filer sees the file, and a mount process
// killed at that point loses nothing closed. That save asks the filer for
// no sync of its store (server.MountNoSync, filer.NoSync), as close on a
// local disk promises no durability either (a save that drops chunks the
// filer's version holds, as a rewrite does, is synced all the same: the
// filer deletes dropped chunks, and a crash of the filer must not bring
// back an entry whose chunks are gone); fsync(2) waits until the
// filer has the entry on stable storage (and saves it again, synced, when
// its last save was not) and the volume servers have the file's data on
// stable storage: the volumes its chunks went to since its last fsync are
// synced on every server holding them (POST /admin/sync; volumes taking
// chunks are also synced in the background every 64 MiB, so the disk
// writes overlap the uploads). Other metadata changes (mkdir, symlink, chmod,
// chown, utimens, truncate, xattrs, rename, unlink) return once the filer
// applied them, except changes to a file still holding written bytes not
// yet saved: those go with the bytes at the next close, so a program that
// creates, writes, sets times and modes on the open file and closes it
// (tar, cp -p) costs one save. The entry of a file just created is held in
// a write-back queue for writeBackDelay, so that its close, which usually
// follows at once, makes the one save. This mount sees what it staged at
// once (lookups and listings merge the queue); a rename or delete first
// saves everything staged, so no save lands on a path that moved. Changes
// made elsewhere reach this mount through the change feed (normally within
// a second), and only those: the mount signs its own changes (a random
// signature sent with each, and with the feed's request) and the filer
// leaves them out. An event is applied to the cache when the cache holds
// the version it replaced; otherwise the cached entry is dropped; either
// way the kernel's caches of the path are invalidated. A filer answer
// (lookup, listing, a save's reply) that raced with an event about its
// path is not cached, as it may be older than the event
// (meta_events.go). While the feed is down, cached entries are
// trusted for at most staleAfter; once it reconnects the whole cache is
// dropped, since events may have been missed. The metadata cache keeps
// the inline content of the entries it cached last, maxCachedContent bytes
// at most (dropped when the mount is idle), so opening a small file just
// listed or written costs no filer request. A folder this
// mount made or listed whole answers lookups of names it lacks (ENOENT)
// from the cache, so creating a file costs no filer lookup.
//
// # Data path
//
// Write-only opens bypass the kernel's page cache (FOPEN_DIRECT_IO), so a
// write(2) is copied once, into its FUSE request; opens that read keep
// the page cache and its read-ahead, raised to the mount's own read-ahead
// (bdi read_ahead_kb, when run as root). Chunks go to volume servers as
// raw PUTs written with one writev over kept-alive connections
// (client.ChunkWriter). A read within one cached window is answered from
// the window itself. Files whose entries hold manifest chunks (runs of
// data chunks kept in a blob, as the filer makes for files of 10,000
// chunks) are laid out from the data chunks the manifests list. statfs
// reports the cluster's capacity from the master's /dir/status.
//
// # Failures
//
// Every call to the filer has Options.OpTimeout; a filer that does not
// answer makes operations fail with EIO, and they work again once it is
// back. Chunk uploads (retried with backoff) and reads have
// Options.IOTimeout. A save the filer does not answer fails its syscall
// with EIO and is retried in the background until the filer is back
// (unless a newer version replaces it); a mount process killed before
// that loses it (its chunks are then orphans on the volume servers).
//
// # Requests per file
//
// The kernel's attribute and entry caches last kernelTimeout, and every
// reply that carries attributes (SETATTR too) sets them, so a program's
// stat after a change costs no request. The mount asks for
// FUSE_HANDLE_KILLPRIV_V2 and clears suid/sgid itself (killpriv.go), so a
// chown costs no GETATTR first. What tar costs per file is then LOOKUP
// (of the new name), CREATE, WRITE, SETATTR (times), GETXATTR
// (security.capability, which the kernel asks before any chown and
// go-fuse answers itself), SETATTR (owner), SETATTR (mode), FLUSH and
// RELEASE, and one filer save, made by the FLUSH.
//
// When the mount ends it logs how many FUSE operations of each kind it
// served, filer requests it made and change-feed events it read (to
// profile a workload).
package mount
