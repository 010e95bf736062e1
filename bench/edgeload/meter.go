package main

import (
	"context"
	"fmt"
	"time"

	"github.com/bangbang-im/bangbang/bench/procstat"
)

// meter reads, at the edges of a phase's window, what the phase costs: the CPU time of
// the processes it names, of this one, and optionally Redis's script counters.
type meter struct {
	pids  map[string]int // role -> pid; 0 is not measured
	redis *redisStats    // nil: not read
}

// sample is one reading of a meter.
type sample struct {
	CPU   cpuSample
	Redis scriptCounters
}

func (m meter) read(ctx context.Context) (sample, error) {
	s := sample{CPU: cpuSample{}}
	self, err := selfCPU()
	if err != nil {
		return s, err
	}
	s.CPU[roleSelf] = self
	for role, pid := range m.pids {
		if pid == 0 {
			continue
		}
		d, err := procstat.CPU(pid)
		if err != nil {
			return s, fmt.Errorf("%s: %w", role, err)
		}
		s.CPU[role] = d
	}
	if m.redis != nil {
		rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		if s.Redis, err = m.redis.read(rctx); err != nil {
			return s, err
		}
	}
	return s, nil
}

func (a sample) sub(b sample) sample {
	return sample{CPU: a.CPU.sub(b.CPU), Redis: scriptCounters{Calls: a.Redis.Calls - b.Redis.Calls, Usec: a.Redis.Usec - b.Redis.Usec}}
}

func (a sample) add(b sample) sample {
	return sample{CPU: a.CPU.add(b.CPU), Redis: scriptCounters{Calls: a.Redis.Calls + b.Redis.Calls, Usec: a.Redis.Usec + b.Redis.Usec}}
}
