//go:build !linux

package needlemap

import "time"

var processStart = time.Now()

// threadCPU falls back to wall time where per-thread CPU time is not
// available.
func threadCPU() time.Duration { return time.Since(processStart) }

func lockThread() func() { return func() {} }
