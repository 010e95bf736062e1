package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
)

func printReport(w io.Writer, r report) {
	fmt.Fprintf(w, "edgeload %s: %s, %d merchants, concurrency %d, %s, %s measured x %d rounds (warmup %s)\n",
		r.Date, r.Run.Action, r.Run.Merchants, r.Run.Concurrency, rateText(r.Run.Rate), r.Run.Duration, r.Run.Rounds, r.Run.Warmup)
	fmt.Fprintf(w, "  host: %d cores, %s, %s; load average %s at start, %s at end\n",
		r.Host.NumCPU, r.Host.CPUModel, r.Host.GoVersion, r.Host.LoadStart, r.Host.LoadEnd)
	if r.LoopUS > 0 {
		fmt.Fprintf(w, "  the load loop's own pacing costs %.1f µs of this program's CPU per call: subtracted from self in the ratios\n", r.LoopUS)
	}
	for _, p := range r.Phases {
		fmt.Fprintf(w, "%-10s %8.0f actions/s  p50 %6.3f  p90 %6.3f  p99 %6.3f  max %7.2f ms  (%d ok, %d refused 429, %d failed, %d connections)\n",
			p.Name, p.PerSec, p.Latency.P50, p.Latency.P90, p.Latency.P99, p.Latency.Max, p.OK, p.Limited, p.Failed, p.Dials)
		fmt.Fprintf(w, "           CPU per action: %s\n", roles(p.CPUPerAction, "%.1f µs", p.Cores))
		if p.CPUPerRequest != nil {
			fmt.Fprintf(w, "           CPU per request, refused ones included: %s\n", roles(p.CPUPerRequest, "%.1f µs", p.Cores))
		}
		if p.RedisScripts > 0 {
			fmt.Fprintf(w, "           Redis: %.2f scripts per action, %.1f µs of Redis per script\n", p.RedisScripts, p.RedisUsec)
		}
		if len(p.Rounds) > 1 {
			var rs []string
			for _, rf := range p.Rounds {
				rs = append(rs, fmt.Sprintf("%.0f/s p99 %.3f", rf.PerSec, rf.P99))
			}
			fmt.Fprintf(w, "           by round: %s\n", strings.Join(rs, "; "))
		}
		for _, k := range sortedKeys(p.Errors) {
			fmt.Fprintf(w, "           FAILED %s: %d\n", k, p.Errors[k])
		}
		if p.FirstError != "" {
			fmt.Fprintf(w, "           first failure: %s\n", p.FirstError)
		}
	}
	c := r.Compare
	fmt.Fprintf(w, "edge vs bare: throughput %.2fx, p50 %+.3f ms, p99 %+.3f ms (by round %s)\n",
		c.ThroughputRatio, c.P50Added, c.P99Added, floats(c.P99AddedByRound, "%+.3f"))
	if c.HasCPU {
		fmt.Fprintf(w, "  CPU per action: edge process / bare client %.2fx (by round %s); whole machine %.2fx; edge's own ceiling %.0f actions/s\n",
			c.CPURatio, floats(c.CPURatioByRound, "%.2f"), c.MachineRatio, c.EdgeCapacity)
	}
	if c.HasRedis {
		fmt.Fprintf(w, "edge-redis vs edge: p99 %+.3f ms (by round %s), edge CPU per action %.2fx\n",
			c.RedisP99Added, floats(c.RedisP99AddedByRound, "%+.3f"), c.RedisCPURatio)
	}
	for _, v := range r.Verdicts {
		fmt.Fprintf(w, "  [%s] %s: %s", v.Status, v.Target, v.Measured)
		if v.Note != "" {
			fmt.Fprintf(w, " (%s)", v.Note)
		}
		fmt.Fprintln(w)
	}
}

func rateText(rate float64) string {
	if rate == 0 {
		return "closed loop"
	}
	return fmt.Sprintf("paced at %.0f actions/s", rate)
}

// roles prints a per-role figure with its share of the machine, in a fixed order.
func roles(m map[string]float64, format string, cores map[string]float64) string {
	var out []string
	for _, role := range []string{roleEdge, roleSim, roleSelf} {
		if v, ok := m[role]; ok {
			out = append(out, fmt.Sprintf("%s "+format+" (%.2f cores)", role, v, cores[role]))
		}
	}
	if len(out) == 0 {
		return "none measured"
	}
	return strings.Join(out, ", ")
}

func floats(fs []float64, format string) string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = fmt.Sprintf(format, f)
	}
	return strings.Join(out, " ")
}

func sortedKeys(m map[string]int64) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
