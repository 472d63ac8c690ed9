// Package master is weed's master server: the HTTP API of SeaweedFS's
// master (/dir/assign, /dir/lookup, /dir/status, /vol/*, /col/delete,
// /collection/info, /cluster/*, /submit, /<fid>), the heartbeat endpoint
// volume servers report to, and the orchestration that needs the network:
// volume growth (ids through Raft, AllocateVolume on the chosen servers,
// the record through Raft), vacuum (check, compact, commit or clean up on
// every replica, one volume per server at a time), collection deletion,
// dead-node expiry, and the Raft wiring that makes several masters one
// group (raft over raft/httptransport on the master's own port, durable in
// the meta folder, key blocks reserved ahead of need).
//
// The pure logic lives below it and is only called from here:
// master/topology (soft state from heartbeats, placement), master/sequence
// (key blocks), master/state (the replicated state machine). This package
// never reads or writes blob bytes except to forward a /submit upload, and
// never decides placement itself.
//
// A follower proxies everything that changes state to the leader and
// answers /dir/lookup from its own view only when no leader can be reached.
package master
