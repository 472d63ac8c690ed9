//go:build unix

package server_test

import (
	"syscall"
	"time"
)

// processCPU is the user plus system CPU time this process (client,
// filer, master and volume server alike) has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
