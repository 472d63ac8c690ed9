// Package sequence hands out needle keys that are never issued twice.
//
// Keys come from blocks reserved through a Reserver (on the master leader,
// one Raft log entry per block). A Sequencer serves Next from the current
// block under a mutex and reserves the following block in the background
// once the current one is half used, so the Raft round trip does not show
// on the assign path. A request larger than a block gets a dedicated range.
//
// Keys of a block that is abandoned (a leader failover, a request that does
// not fit in what is left, keys below a floor raised by Observe) are
// skipped, never reused: uniqueness only needs every issued key to lie in a
// range the Reserver handed out exactly once.
//
// The package owns the in-memory block bookkeeping only. It never talks to
// Raft itself, never persists anything, and never reads a clock.
package sequence
