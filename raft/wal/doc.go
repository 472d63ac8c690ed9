// Package wal is the durable log of the Raft library: a write-ahead log of
// raftpb.Entry records in segment files that implements raft.LogStore and
// raft.StableStore (the HardState lives in the same log, so one fsync makes a
// Ready's entries and its HardState durable together).
//
// It owns the files of one directory: segments named wal-<20 digits>.log and,
// briefly, wal-<20 digits>.log.tmp while a new segment is being created. It
// never interprets entry data, never decides what is committed and never
// talks to peers; the Raft core decides, the driver calls Append, Compact and
// Reset. It does not lock its directory against a second process: whoever
// owns the data directory does (tests reopen a directory in one process).
//
// # Record format
//
// A segment is a sequence of records, each framed the same way (integers
// little-endian):
//
//	offset  size  field
//	0       4     length: bytes of payload (at most maxPayload)
//	4       4     CRC-32C (Castagnoli) of bytes [0,4) and [8, 9+length)
//	8       1     type (recordEntry, recordHardState, recordCompact, recordReset)
//	9       n     payload
//
// Payloads by type:
//
//	recordEntry      1  protobuf raftpb.Entry
//	recordHardState  2  protobuf raftpb.HardState: the latest one wins
//	recordCompact    3  index u64, term u64 (16 bytes): entries <= index are
//	                    dropped and Term(index) answers term
//	recordReset      4  index u64, term u64 (16 bytes): every entry is dropped
//	                    and the log restarts after (index, term)
//
// # How the log is rebuilt
//
// Segments are replayed in the order of their names, records in file order.
// An entry record whose index is already held replaces that entry and every
// entry after it, so a suffix replacement is one durable record and a
// restart never resurrects replaced entries. Every new segment starts with a
// recordCompact of the current log start and the latest recordHardState, so
// older segments can be deleted once compacted. Segment names strictly
// increase: a new segment is named after the index of the entry it is
// created for, or one more than the previous name when a truncation or reset
// went back below it. Only the name order matters for replay.
//
// A torn tail (a partial record, a record ending exactly at the end of the
// file with a bad checksum, or a tail of zero bytes) in the last segment is
// cut back with a log line: it is a write that was never acknowledged. Any
// other damage (a bad record before the end, a gap in indexes, an entry below
// the compaction point, missing segments) is an error wrapping
// raft.ErrCorrupt that names the file and offset; the log is never silently
// shortened.
//
// # In memory
//
// The term and record location of every held entry stay in memory (32
// bytes an entry), so FirstIndex, LastIndex and Term never touch the disk;
// the newest entries, Options.CacheBytes of them, stay decoded for Entries.
// Older entries are read back with one read per run of records.
//
// # Durability
//
// Append, SaveHardState, Save (a Ready's entries and HardState together),
// Compact and Reset return after fsync.
// Concurrent callers share one fsync (group commit): a caller whose record
// was written while another caller's fsync was running waits for the next
// fsync, which covers every record written so far. After a failed write or
// fsync the WAL refuses further writes: what reached the disk is unknown.
package wal
