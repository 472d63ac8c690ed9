// Package idx owns the .idx index log of a volume: an append-only sequence
// of fixed 16-byte entries, one per needle write or deletion, replayed at
// startup to rebuild the in-memory needle map (later entries win).
//
// It is pure encode/decode plus a streaming reader: it never opens files,
// never logs and keeps no state. It knows nothing of the needle map.
//
// # Entry layout (big-endian, 4-byte offsets as SeaweedFS's default build)
//
//	offset  size  field
//	0       8     Key     the needle key
//	8       4     Offset  needle position in the .dat, in units of 8 bytes
//	12      4     Size    the needle's Size field; Tombstone (0xFFFFFFFF)
//	                      marks a deletion
//
// A 4-byte offset in 8-byte units addresses 32 GiB, the largest volume.
// SeaweedFS's "5BytesOffset" build (17-byte entries) is not supported.
package idx
