// Package volume is the volume server: the HTTP API of SeaweedFS's volume
// server over a storage.Store (blob writes, reads, deletes, /status), the
// fan-out of writes and deletes to a volume's replicas, heartbeats to the
// master leader, and the admin calls the master makes (allocate, delete,
// mark read-only, vacuum, copy).
//
// It never decides placement (the master does) and never touches file
// formats (package storage does); it translates between HTTP and the store.
package volume
