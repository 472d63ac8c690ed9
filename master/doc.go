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
// A follower forwards everything that changes state, and the status pages,
// to the leader (httputil.ReverseProxy). It answers /dir/lookup itself from
// the leader's answers it forwarded during the last pulse, and from its own
// (stale) view only when no leader can be reached; a miss then is a 503,
// never a 404 a client would trust.
package master
