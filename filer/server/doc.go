// Package server is the filer's HTTP API, compatible with SeaweedFS's
// filer (SEAWEEDFS-WIRE.md §5): files written by POST (multipart) or PUT
// (raw body), folders made by POST to "dir/", reads with Range and the If-*
// preconditions, JSON and HTML listings, DELETE, renames with mv.from,
// ?metadata=true, op=append, and the change feed at /internal/events.
//
// It owns the mapping of requests to filer operations and of filer errors
// to status codes; every error answers {"error": "..."}. It never touches a
// store or a volume server except through package filer.
//
// # Change feed stream
//
// GET /internal/events?since=<unix ns>&prefix=/dir&heartbeat=<seconds>[&signature=<int32>]
// answers 200 with Content-Type application/x-weed-events and a body of
// frames, each a uvarint length followed by that many bytes of a
// protobuf pb.EntryEvent. A heartbeat is an event with only ts_ns set,
// sent when nothing else was for heartbeat seconds (default 5). With
// signature=S, events whose signatures hold S are left out: the changes a
// mount made itself with the same signature on its /internal/mount/
// writes. Frames go out when the filer has sent every event it has (a
// burst shares writes). The stream ends when the client goes away or the
// server stops.
//
// The path /internal/events is reserved: a file there cannot be read
// through the HTTP API.
package server
