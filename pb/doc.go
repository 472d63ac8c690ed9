// Package pb holds the protobuf messages of weed's own protocols: the
// heartbeat a volume server sends to the master leader (heartbeat.proto),
// the admin calls the master makes to volume servers (admin.proto), and the
// commands and snapshot of the master's Raft state machine (master.proto).
//
// These are HTTP request and response bodies and Raft log payloads, not
// gRPC services: the package owns message shapes only. It never holds
// logic, talks to the network, or decides what a field means beyond its
// comment. The Go files are generated: edit the .proto files and run
// `make proto` (protoc with protoc-gen-go). Field numbers are part of wire
// and on-disk formats (Raft logs and snapshots keep MasterCommand bytes), so
// fields are only ever added, never renumbered or reused.
package pb
