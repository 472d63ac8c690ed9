// Package localput is the same-host upload protocol between a client
// (weed mount) and a volume server on one machine: the client's chunk
// buffers live in a sealed memfd (an Arena) that it passes once per
// connection over a Unix socket (SCM_RIGHTS); each upload is then a small
// Put frame naming a range of that memory, and the server appends the
// needle from its read-only mapping of it. The bytes never cross a socket:
// the two copies of a loopback TCP upload (into the socket, out of it)
// and the TCP stack's work disappear.
//
// It owns the frame format (pure encode and decode), the Arena (memfd
// create, seal, map, punch holes) and the server's read-only Mapping of a
// client's arena with the checks that make it safe. It never decides what
// to store, never sees HTTP, and never trusts a client's memory beyond
// reading it: a Mapping is only made of a memfd sealed against shrinking
// and growing, so the client cannot make the server fault (SIGBUS) by
// truncating it. The needle's checksum is end to end: the client
// computes the CRC-32C of the bytes it means to send while it fills its
// buffer (they are in its CPU's cache then) and the Put carries it, so
// the server stores it without reading the bytes twice. A client that
// changes its buffer afterwards, or gives a wrong CRC, only spoils its own
// needle (every read of it fails its check), never another's.
//
// # Frames
//
// Every frame, in both directions, is a 4-byte big-endian body length n
// (1 <= n <= MaxBody) followed by n bytes whose first is the kind.
// Strings are a length (1 byte, or 2 big-endian where said) and the bytes.
//
//	Hello (KindHello, client -> server, first frame; the memfd rides on it
//	as SCM_RIGHTS ancillary data):
//	  off size field
//	  0   4    body length (10)
//	  4   1    kind = 1
//	  5   1    version = 1
//	  6   8    arena size in bytes (the memfd's size)
//
//	Put (KindPut, client -> server):
//	  0   4    body length
//	  4   1    kind = 2
//	  5   1    flags: bit 0 fsync, bit 1 crc given
//	  6   8    offset of the data in the arena
//	  14  4    length of the data
//	  18  8    last-modified time, unix seconds (0: the server's now)
//	  26  4    CRC-32C (Castagnoli) of the data when crc given, else 0
//	  30  1+n  fid ("3,01637037d6")
//	  ..  1+n  ttl ("" or "3d" as ?ttl=)
//	  ..  2+n  jwt ("" when the cluster does not sign writes)
//	  ..  1+n  name ("": the fid, as a raw PUT names its needle)
//	  ..  1+n  mime type ("" for none)
//
//	Reply (KindReply, server -> client, one per Hello and per Put):
//	  0   4    body length
//	  4   1    kind = 3
//	  5   2    status, as the HTTP answer would have (201, 204, 4xx, 5xx)
//	  7   4    stored size of the data (the upload's "size")
//	  11  1+n  eTag
//	  ..  1+n  name
//	  ..  1+n  mime
//	  ..  2+n  error (the {"error"} text when status is not 2xx)
//
// A status of StatusUseHTTP (421) says the server will not take this
// upload here (a replicated volume, whose copies a PUT forwards) and the
// client sends it as an HTTP PUT instead.
package localput
