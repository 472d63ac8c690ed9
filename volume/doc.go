// Package volume is the volume server: the HTTP API of SeaweedFS's volume
// server over a storage.Store (blob writes, reads, deletes, /status), the
// fan-out of writes and deletes to a volume's replicas, heartbeats to the
// master leader, and the admin calls the master makes (allocate, delete,
// mark read-only, vacuum, copy) plus sync, which clients call too (a mount's
// fsync).
//
// Hot paths are kept cheap on purpose (see bench_test.go, which reports
// CPU per request beside a bare net/http handler): a plain GET is answered
// in one write, upload bodies are read whole into pooled buffers (size
// classes up to 32 MiB) and their single multipart part found in place,
// records are read into pooled buffers too, a single Range is answered
// without http.ServeContent's 32 KiB copies, the upload reply is encoded
// without reflection, and a whole chunked file is served with the next
// chunks fetched ahead (from the local store when this server holds them).
// A read's checksum is verified before the first byte is sent (the record
// is read into memory, not sent with sendfile): verifying needs the bytes
// in memory anyway, so sendfile would save no copy and would send corrupt
// data before noticing.
//
// Same-host uploads (local.go, client/localput): a client on this machine
// (weed mount) whose chunk buffers live in a sealed memfd passes it once
// per connection on a Unix socket (mode 0600 in the first data folder,
// the peer's user id checked, path told by GET /admin/local to same-host
// callers only) and then names each chunk by offset and length; the
// needle is appended from a read-only mapping of it, the same record a
// PUT of those bytes makes, after the same token and white-list checks.
// Replicated volumes' uploads are sent back to HTTP, which forwards them.
//
// It never decides placement (the master does) and never touches file
// formats (package storage does); it translates between HTTP and the store.
package volume
