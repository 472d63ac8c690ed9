// Package state is the master's Raft-replicated state machine: the highest
// volume id issued, the highest needle key reserved, the volume records
// made by growth (id -> collection, placement, TTL, disk type, servers),
// collection deletions and operator read-only marks.
//
// Every change is a pb.MasterCommand encoded with protobuf in a Raft log
// entry. Apply decodes it and returns a typed result (KeyRange, VolumeIDs,
// CollectionDeleted, nil) or an error value; malformed bytes give an error
// result and change nothing. Snapshot writes the whole state as a
// pb.MasterSnapshot with deterministic encoding, so replicas that applied
// the same commands write the same bytes.
//
// The package never reads a clock, never performs I/O beyond the snapshot
// reader and writer it is given, and holds nothing that heartbeats report
// (live servers, sizes, fullness): that soft state is master/topology's.
package state
