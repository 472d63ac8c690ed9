// Package snapshots is the file SnapshotStore of the Raft library: it keeps
// the application snapshots the driver takes, and the ones a follower
// receives, in one directory, each with its raftpb.SnapshotMeta.
//
// It owns the directory given to Open: one folder per complete snapshot,
// snapshot-<index 20 digits>-<term 20 digits>, holding two files, "data" (the
// application's bytes, never interpreted here) and "meta". A snapshot being
// written (or being pruned) lives in a folder whose name ends in ".tmp";
// Open deletes those, since a crash left them incomplete. It never decides
// when to snapshot or which log entries to drop: the driver does, then
// compacts the WAL.
//
// A snapshot becomes visible atomically: Close syncs data and meta, syncs the
// folder, renames it to its final name and syncs the directory. Then only
// the newest `retain` snapshots are kept. Latest checks the meta file's own
// checksum and the data's checksum and size before returning; damage is an
// error wrapping raft.ErrCorrupt that names the file.
//
// # Meta file format
//
// Integers little-endian:
//
//	offset  size  field
//	0       4     magic "WSNP"
//	4       1     version (metaVersion)
//	5       4     n: length of the SnapshotMeta
//	9       n     protobuf raftpb.SnapshotMeta (size = bytes of data)
//	9+n     4     CRC-32C (Castagnoli) of the data file
//	13+n    4     CRC-32C of bytes [0, 13+n) of this file
package snapshots
