package main

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clockTick is USER_HZ, the unit of /proc/PID/stat times: 100 on every Linux architecture
// this runs on. At 10 ms per tick, a phase of seconds reads another process's CPU to
// within a percent.
const clockTick = 100

// readCPU is the CPU time, user plus system, that process pid has used.
func readCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, fmt.Errorf("read cpu of %d: %w", pid, err)
	}
	return parseStatCPU(string(b))
}

// parseStatCPU reads utime and stime (fields 14 and 15) of /proc/PID/stat. The command
// name in field 2 may hold spaces and parentheses, so fields are counted after its last ')'.
func parseStatCPU(s string) (time.Duration, error) {
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("parse stat: no command name: %w", io.ErrUnexpectedEOF)
	}
	f := strings.Fields(s[i+1:])
	// f[0] is field 3 (state), so utime (14) is f[11] and stime (15) f[12].
	if len(f) < 13 {
		return 0, fmt.Errorf("parse stat: %d fields: %w", len(f), io.ErrUnexpectedEOF)
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("parse stat: utime %q stime %q", f[11], f[12])
	}
	return time.Duration(u+st) * time.Second / clockTick, nil
}

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
