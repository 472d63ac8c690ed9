// Package vfs is the seam between volumes and the file system: a small File
// and FS interface, the real operating-system implementation (OS),
// WriteVectorAt (one pwritev where the file allows, so a large record is
// written around its data without joining it into one buffer), and
// CrashFS, an in-memory file system that simulates power loss so crash tests
// can cut the power before any single write, sync or metadata change and
// inspect what a reboot would find.
//
// The package owns only file access. It never knows about needles, indexes
// or volumes, never logs, and keeps no package-level state: Default returns a
// value, and every CrashFS is independent.
//
// # CrashFS durability model
//
// CrashFS keeps, for every file (inode), the content a reboot would find (the
// synced content) and the ordered list of changes made since (writes and
// truncations). For the name space it keeps the names a reboot would find
// (the durable names) beside the current ones. The rules, close to what ext4
// with data=ordered gives and strict enough to catch a missing fsync:
//
//   - File.Sync makes the file's content durable: the synced content becomes
//     the current content.
//   - A create, rename or remove becomes durable when its parent directory is
//     synced with FS.SyncDir, or when the file it concerns is synced
//     (File.Sync on any handle of that inode) after it. SyncDir(dir) makes
//     every current name in dir durable and forgets durable names in dir
//     that no longer exist. A rename between directories needs both
//     directories synced (or the file synced) to be fully durable; until
//     then a reboot may show the file under both names.
//   - Truncate is a change of content: it is durable when the file is synced,
//     like a write.
//   - Directories made by MkdirAll are durable at once (volumes create their
//     folders once, before any data; modelling lost directories would only
//     add noise to crash tests).
//
// After a reboot (Crash), every file holds its synced content. In mode
// KeepPrefixOfLastWrite a file instead holds its synced content with every
// unsynced change replayed in order, except that only a prefix of the last
// unsynced write survives (a torn write); CrashOptions.TornLen picks the
// prefix length so a test can cut at every byte.
//
// Every File.Write, WriteAt, Truncate and Sync, and every FS call that
// changes the name space (OpenFile with O_CREATE or O_TRUNC, Remove, Rename,
// MkdirAll, SyncDir) is an operation with a sequence number starting at 1.
// After SetCrashAt(n), operation n and every call after it (reads included)
// fail with ErrCrashed, as if the machine had lost power at that instant.
// Close always succeeds so deferred closes stay quiet.
//
// CrashFS is safe for concurrent use; one mutex serialises all calls.
package vfs
