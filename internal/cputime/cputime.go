// Package cputime reads the CPU time the running process has used, so
// benchmarks can report CPU per operation (steadier than wall-clock rates
// on a shared machine). It is for tests and benchmarks.
package cputime

import "time"

// Process is the user plus system CPU time this process has used so far,
// or 0 where the platform does not say.
func Process() time.Duration { return process() }
