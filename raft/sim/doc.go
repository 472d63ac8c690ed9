// Package sim is the deterministic simulation of the raft core: several
// cores in simulated time, driven by one seeded *rand.Rand, over a network
// that loses, duplicates, delays and reorders messages and is partitioned
// in ways that change over time, with crashes (a crashed peer keeps only
// what it persisted, including crashes between persisting a Ready and
// sending its messages), restarts, membership changes, leadership
// transfers and snapshots with log compaction.
//
// A key-value state machine serves clients that submit operations to
// whoever they believe leads, retry on timeout, and read through ReadIndex.
// Every step checks election safety, log matching, leader completeness and
// state machine safety; every run ends with a liveness check (the cluster
// commits once the network heals) and a linearizability check of the client
// history with porcupine.
//
// A run is a pure function of its seed: Run(Options{Seed: s}) replays a
// failure exactly. The package owns the harness only; it never reaches
// into the core's internals, it drives the exported API as a driver would.
package sim
