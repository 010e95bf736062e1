// Package procstat reads a process's CPU time from /proc, for the bench programs' CPU per
// action and per message figures. Linux only, like the measurements.
package procstat

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// ClockTick is USER_HZ, the unit of /proc/PID/stat times: 100 on every Linux architecture
// this runs on. At 10 ms per tick, a phase of seconds reads another process's CPU to within
// a percent.
const ClockTick = 100

// CPU is the CPU time, user plus system, that process pid has used; pid 0 means this one.
func CPU(pid int) (time.Duration, error) {
	path := "/proc/self/stat"
	if pid != 0 {
		path = "/proc/" + strconv.Itoa(pid) + "/stat"
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("read cpu of %d: %w", pid, err)
	}
	return ParseStatCPU(string(b))
}

// ParseStatCPU reads utime and stime (fields 14 and 15) of /proc/PID/stat. The command
// name in field 2 may hold spaces and parentheses, so fields are counted after its last ')'.
func ParseStatCPU(s string) (time.Duration, error) {
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
	return time.Duration(u+st) * time.Second / ClockTick, nil
}
