// Package superblock owns the 8-byte header at the start of every volume
// .dat file, the replica placement code it carries, and the .vif volume info
// file (JSON) kept next to the volume.
//
// It is pure encode/decode: it never opens files, never logs and keeps no
// state.
//
// # Super block layout (big-endian)
//
//	offset  size  field
//	0       1     needle Version (1, 2 or 3)
//	1       1     ReplicaPlacement byte: x*100 + y*10 + z
//	2       2     TTL: count, unit (see needle.TTL)
//	4       2     CompactionRevision, incremented by each vacuum
//	6       2     ExtraSize (versions 2 and 3; ignored in version 1)
//	8       n     Extra: ExtraSize bytes of SeaweedFS's SuperBlockExtra
//	              protobuf, kept opaque here
//
// Needles are addressed in units of 8 bytes, so the first needle must start
// 8-aligned. SeaweedFS does not pad after Extra; it aligns its next append
// instead. We make that explicit: Bytes writes zero padding after Extra up to
// the next multiple of 8, and Len (where the first needle starts) counts it.
// With no Extra, as SeaweedFS writes today, that is exactly 8 bytes.
//
// # Replica placement
//
// "xyz": x extra copies in other data centers, y on other racks of the same
// data center, z on other servers of the same rack; copies = x+y+z+1. Missing
// leading digits are zeros ("" is "000", "1" is "001").
package superblock
