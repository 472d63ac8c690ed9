// Package growth creates new volumes for a layout: it plans servers with
// master/topology, takes volume ids from the replicated state (one Raft
// entry for the batch), asks each chosen server to allocate the volume,
// records the volume in the replicated state, and adds it to the topology
// so it takes writes before the next heartbeat.
//
// Growths run one at a time (a plan reserves no slots, so two concurrent
// plans could choose the same last slot); Background joins a growth
// already running for the same layout, which is what the assign path
// needs ("volume growth in progress").
//
// The package owns that sequence and its clean-up (copies allocated for a
// volume that could not be completed are deleted again). It never speaks
// HTTP or Raft itself: the admin calls and the proposals go through the
// Allocator and IDs interfaces it is given.
package growth
