package main

import (
	"bufio"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/bangbang-im/bangbang/bench/latency"
)

// report is a run's figures: per phase, their comparison, and the targets' verdicts.
type report struct {
	Date     string          `json:"date"`
	Host     hostInfo        `json:"host"`
	Run      runInfo         `json:"run"`
	Phases   []*phaseSummary `json:"phases"`
	Compare  comparison      `json:"compare"`
	Verdicts []verdict       `json:"verdicts"`
	// LoopUS is the load loop's own CPU per call, µs (paced runs only; see loopOverhead).
	LoopUS float64 `json:"loop_us_per_call"`
	cores  int
	rate   float64
}

type hostInfo struct {
	NumCPU    int    `json:"nproc"`
	CPUModel  string `json:"cpu_model"`
	GoVersion string `json:"go_version"`
	LoadStart string `json:"load_avg_start"`
	LoadEnd   string `json:"load_avg_end"`
}

type runInfo struct {
	Action      string  `json:"action"`
	Merchants   int     `json:"merchants"`
	Concurrency int     `json:"concurrency"`
	Rate        float64 `json:"rate"`
	Warmup      string  `json:"warmup"`
	Duration    string  `json:"duration"`
	Rounds      int     `json:"rounds"`
	BareConns   int     `json:"bare_conns"`
}

// phaseSummary is one phase over every round.
type phaseSummary struct {
	Name       string           `json:"name"`
	Seconds    float64          `json:"seconds"`
	OK         int64            `json:"ok"`
	Limited    int64            `json:"limited_429"`
	Failed     int64            `json:"failed"`
	Errors     map[string]int64 `json:"errors,omitempty"`
	FirstError string           `json:"first_error,omitempty"`
	PerSec     float64          `json:"actions_per_sec"`
	Latency    latency.Summary  `json:"latency"`
	// CPUPerAction is CPU microseconds per successful action, by role (self, edge, sim).
	CPUPerAction map[string]float64 `json:"cpu_us_per_action"`
	// CPUPerRequest counts refused requests too (only when some were refused): what a
	// request that stops at the rate limiter costs.
	CPUPerRequest map[string]float64 `json:"cpu_us_per_request,omitempty"`
	// Cores is CPU time over wall time, by role: how much of the machine each process took.
	Cores map[string]float64 `json:"cores"`
	Dials int64              `json:"dials"`
	// RedisScripts and RedisUsec are Redis's script calls per action and microseconds per
	// call (edge-redis with --redis-addr only).
	RedisScripts float64        `json:"redis_scripts_per_action,omitempty"`
	RedisUsec    float64        `json:"redis_usec_per_script,omitempty"`
	LoadAvg      []string       `json:"load_avg"`
	Rounds       []roundFigures `json:"rounds"`
	hist         latency.Histogram
	cost         sample
}

// roundFigures are one round's phase, to show how much rounds disagree.
type roundFigures struct {
	PerSec       float64            `json:"actions_per_sec"`
	P50          float64            `json:"p50_ms"`
	P99          float64            `json:"p99_ms"`
	CPUPerAction map[string]float64 `json:"cpu_us_per_action"`
}

func newReport(cfg config) report {
	return report{
		Date: time.Now().UTC().Format(time.RFC3339),
		Host: hostInfo{NumCPU: runtime.NumCPU(), CPUModel: cpuModel(), GoVersion: runtime.Version(), LoadStart: loadAvg()},
		Run: runInfo{Action: cfg.Action, Merchants: cfg.Merchants, Concurrency: cfg.Concurrency, Rate: cfg.Rate,
			Warmup: cfg.Warmup.String(), Duration: cfg.Duration.String(), Rounds: cfg.Rounds, BareConns: cfg.BareConns},
		cores: cfg.Cores,
		rate:  cfg.Rate,
	}
}

func (r *report) phase(name string) *phaseSummary {
	for _, p := range r.Phases {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// add folds one round's phase in.
func (r *report) add(res phaseResult, dials int64) {
	p := r.phase(res.Name)
	if p == nil {
		p = &phaseSummary{Name: res.Name, Errors: map[string]int64{}, cost: sample{CPU: cpuSample{}}}
		r.Phases = append(r.Phases, p)
	}
	p.Seconds += res.Seconds
	p.OK += res.OK
	p.Limited += res.Limited
	p.Failed += res.Failed
	for k, n := range res.Errors {
		p.Errors[k] += n
	}
	if p.FirstError == "" {
		p.FirstError = res.FirstError
	}
	p.hist.Merge(&res.hist)
	p.cost = p.cost.add(res.Cost)
	p.Dials += dials
	p.LoadAvg = append(p.LoadAvg, res.LoadAvg)
	p.Rounds = append(p.Rounds, roundFigures{PerSec: perSec(res.OK, res.Seconds), P50: res.Latency.P50, P99: res.Latency.P99,
		CPUPerAction: perAction(res.Cost.CPU, res.OK)})
}

// finish computes the summaries, the comparison and the verdicts.
func (r *report) finish() {
	for _, p := range r.Phases {
		p.PerSec = perSec(p.OK, p.Seconds)
		p.Latency = p.hist.Summary()
		p.CPUPerAction = perAction(p.cost.CPU, p.OK)
		if p.Limited > 0 {
			p.CPUPerRequest = perAction(p.cost.CPU, p.OK+p.Limited)
		}
		p.Cores = map[string]float64{}
		for role, d := range p.cost.CPU {
			if p.Seconds > 0 {
				p.Cores[role] = d.Seconds() / p.Seconds
			}
		}
		if p.cost.Redis.Calls > 0 && p.OK > 0 {
			p.RedisScripts = float64(p.cost.Redis.Calls) / float64(p.OK)
			p.RedisUsec = float64(p.cost.Redis.Usec) / float64(p.cost.Redis.Calls)
		}
	}
	r.Host.LoadEnd = loadAvg()
	r.Compare = compare(r.phase(phaseEdge), r.phase(phaseBare), r.phase(phaseEdgeRedis), r.cores, r.LoopUS)
	r.Verdicts = verdicts(r.Compare, r.phase(phaseEdge), r.rate)
}

func perSec(n int64, seconds float64) float64 {
	if seconds <= 0 {
		return 0
	}
	return float64(n) / seconds
}

func perAction(cpu cpuSample, ok int64) map[string]float64 {
	out := map[string]float64{}
	if ok == 0 {
		return out
	}
	for role, d := range cpu {
		out[role] = float64(d.Microseconds()) / float64(ok)
	}
	return out
}

// cpuModel is the first "model name" of /proc/cpuinfo, "" if unreadable.
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if k, v, ok := strings.Cut(s.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
