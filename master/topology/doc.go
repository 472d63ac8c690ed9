// Package topology is the master's soft state, rebuilt from heartbeats:
// the tree of data centers, racks and data nodes (volume servers) with
// their slots per disk type, the volumes each node holds, and the volume
// layouts that answer "which volume may take a write" and "where does
// volume N live".
//
// A volume layout groups volumes by (collection, replica placement, TTL,
// disk type). A volume is writable when exactly the copies its placement
// asks for are on live nodes (or more, with Config.ReplicationAsMin), no copy is read-only (by report or by an operator's
// mark), and no copy has reached the volume size limit. At 90% of the
// limit a volume is crowded: still writable, but the layout asks for
// growth ahead of need.
//
// Growth planning (PlanGrowth) chooses servers for new volumes by the
// placement string xyz: one main server, z more on other servers of its
// rack, y on other racks of its data center (one per rack), x in other
// data centers (one per data center), weighted by free slots, with the
// random source injected so tests are exact. For a volume that lost a
// copy, UnderReplicated and PlanReplica find where a new copy keeps the
// placement valid (volume.fix.replication).
//
// Time is always passed in (ProcessHeartbeat, Expire): the package never
// reads a clock, never does I/O, and never talks to volume servers or Raft.
// What must survive a failover (volume ids issued, operator marks) is
// master/state's; a new leader rebuilds this package's view within one
// heartbeat interval. A Topology is safe for concurrent use.
package topology
