//go:build unix

package bench

import "syscall"

// cpuTime is the CPU time this process has used, user and system, in
// nanoseconds: the client's share of an operation, which the database
// server's work and the wait for the network do not inflate.
func cpuTime() int64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return -1
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
