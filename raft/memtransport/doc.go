// Package memtransport is an in-memory raft.Transport for tests: peers of one
// Network exchange messages through goroutines and channels, never sockets.
//
// It owns fault injection on the links between peers: random drops,
// duplicates, reordering and delays (drawn from one seeded source, so a run's
// choices are reproducible up to goroutine scheduling), one-way blocks,
// isolation and partitions of whole groups. Messages are cloned on delivery,
// so a receiver never shares memory with its sender.
//
// It never persists anything and never imports the rest of weed; it knows of
// the raft package only the Transport and Handler interfaces.
package memtransport
