package main

import (
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"
)

// selfCPU is this process's CPU time from getrusage, to the microsecond: the bare
// client's cost is read here, and it is the smallest figure of the comparison.
func selfCPU() (time.Duration, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, fmt.Errorf("getrusage: %w", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
}

// loadAvg is the first three fields of /proc/loadavg ("1.02 0.87 0.55"), "" if unreadable:
// the machine is shared, and a figure means little without it.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

// Roles of the measured processes.
const (
	roleSelf = "self" // this program: the load, and in the bare phase the SOAP client
	roleEdge = "edge" // the edge process the phase goes through
	roleSim  = "sim"  // the simulator process
)

// cpuSample is CPU time by role.
type cpuSample map[string]time.Duration

func (a cpuSample) sub(b cpuSample) cpuSample {
	d := cpuSample{}
	for role, v := range a {
		if w, ok := b[role]; ok {
			d[role] = v - w
		}
	}
	return d
}

func (a cpuSample) add(b cpuSample) cpuSample {
	d := cpuSample{}
	for role, v := range a {
		d[role] = v
	}
	for role, v := range b {
		d[role] += v
	}
	return d
}
