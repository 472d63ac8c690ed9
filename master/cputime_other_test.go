//go:build !unix

package master

import "time"

func processCPU() time.Duration { return 0 }
