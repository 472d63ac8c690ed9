// Package storage owns volumes and the store of volumes on a set of disk
// folders: appending, reading and deleting needles, crash recovery when a
// volume is opened, and compaction (vacuum). The byte formats live in the
// sub-packages needle, superblock and idx; the in-memory index in needlemap;
// every file access goes through a vfs.FS so tests can cut power anywhere.
//
// It never sees an HTTP request (the volume server translates requests into
// calls here), never replicates (fan-out is the volume server's job), never
// exits the process and keeps no global state: loggers are passed in.
//
// # Files of one volume
//
//	<collection>_<id>.dat  super block, then needle records, 8-aligned, append-only
//	<collection>_<id>.idx  16-byte entries {key, offset/8, size}, append-only
//	<collection>_<id>.vif  volume info JSON (read-only mark, version)
//	.cpd .cpx              compaction output, renamed over .dat/.idx on commit
//	.cpc                   commit marker: present means "roll the renames forward"
//
// The default collection drops the "<collection>_" prefix. A collection name
// may itself contain '_': the id is what follows the last one.
//
// # Write order and durability
//
// A write appends the record at the 8-aligned end of .dat, then its entry to
// .idx, then updates the map; readers see it from that moment. Nothing is
// synced unless the caller asks (WriteOptions.Fsync or VolumeOptions.Fsync);
// then .dat and .idx are synced (both at once) before Write returns, and
// concurrent writers share one sync (group commit): a writer that arrives
// while a sync is in flight waits for the next one, which covers every write
// appended before it started. Syncing .idx too is what keeps an empty needle
// apart from a tombstone after a crash (both are Size 0 records in .dat).
//
// A record whose data is 64 KiB or more (minWrittenAround) is written from
// the caller's buffer: header and tail are encoded apart and the three
// pieces go out in one vfs.WriteVectorAt (pwritev), so a 4 MiB blob is not
// copied into a record buffer first; WriteOptions.DataCRC spares the CRC
// pass when the caller computed it as the bytes arrived. A read copies the
// whole record once, into a buffer of the caller's (ReadOptions.Alloc) or
// a new one, and checks the CRC before returning any of it. ext4 serializes
// buffered writes to one file anyway, so the append stays under wmu.
//
// # Locks
//
// Volume.wmu serializes appends, mode changes, the compaction commit and
// Close. Volume.mu (read-write) guards the map and sizes; a reader holds it
// only for the lookup, a writer only to publish an append. Volume.fmu keeps
// the file handles in place: a reader holds it (read) through its one disk
// read, Close and the compaction's swap of files take it (write), writers
// never do. Volume.compactMu keeps one compaction (or CopyFiles) at a time.
// Lock order: wmu, fmu, mu.
//
// # Recovery on open
//
// A torn .idx tail (not a whole entry) is cut. The last .idx entries are
// checked against .dat, newest first, and dropped while they point past the
// end of .dat or at a record that does not decode with its key and checksum.
// The .dat past the last indexed record is then scanned: whole records are
// indexed again, the torn tail is cut. A missing .idx is rebuilt from .dat.
// Every cut is logged. A scanned record with Size 0 is a tombstone only if
// its key is live with the same cookie and checksum, otherwise an empty
// needle (see isTombstone); SeaweedFS's own rebuild takes all of them for
// tombstones.
//
// # Copies
//
// CopyFiles streams a consistent prefix of .dat and .idx (both only grow)
// while writes go on; Store.ReceiveVolume writes such a copy under temporary
// ".recv" names, syncs, renames them into place and opens the volume.
//
// # Compaction
//
// Compact copies the live needles of an index snapshot into .cpd/.cpx while
// reads and writes go on. CommitCompact, with writers stopped, replays the
// index entries appended since, syncs, writes .cpc (synced, directory synced),
// renames .cpd over .dat and .cpx over .idx, syncs the directory and removes
// .cpc. On open, .cpc means the renames must be finished; .cpd/.cpx without
// .cpc are an abandoned compaction and removed. The copy can be throttled
// (VolumeOptions.CompactBytesPerSecond).
package storage
