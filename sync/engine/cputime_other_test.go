//go:build !unix

package engine

import "time"

// cpuTime is 0 where getrusage is not there (Windows): the benchmarks' cpu-s then reads 0,
// and the package's tests still build for the Windows run under Wine.
func cpuTime() time.Duration { return 0 }

// processCPU is 0 where there is no /proc.
func processCPU(pid int) time.Duration { return 0 }
