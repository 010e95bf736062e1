package main

import (
	"testing"

	"github.com/bangbang-im/bangbang/bench/latency"
)

func summary(name string, perSec, p50, p99 float64, cpu map[string]float64) *phaseSummary {
	return &phaseSummary{Name: name, PerSec: perSec, Latency: latency.Summary{P50: p50, P99: p99}, CPUPerAction: cpu,
		Rounds: []roundFigures{{PerSec: perSec, P50: p50, P99: p99, CPUPerAction: cpu}}}
}

func TestCompare(t *testing.T) {
	edge := summary(phaseEdge, 6000, 1.2, 2.0, map[string]float64{roleEdge: 230, roleSim: 100, roleSelf: 150})
	bare := summary(phaseBare, 8000, 1.0, 1.6, map[string]float64{roleSim: 100, roleSelf: 210})
	redis := summary(phaseEdgeRedis, 5500, 1.3, 2.2, map[string]float64{roleEdge: 250, roleSim: 100, roleSelf: 150})
	// 10 µs of the load loop's own in every phase's self figure.
	c := compare(edge, bare, redis, 2, 10)
	near := func(name string, got, want float64) {
		t.Helper()
		if d := got - want; d > 1e-9 || d < -1e-9 {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	near("cpu ratio", c.CPURatio, 230.0/200)
	near("cpu ratio round 1", c.CPURatioByRound[0], 230.0/200)
	near("machine ratio", c.MachineRatio, (480.0-10)/(310-10))
	near("p99 added", c.P99Added, 0.4)
	near("p99 added, median round", c.P99AddedMedian, 0.4)
	near("p50 added", c.P50Added, 0.2)
	near("throughput ratio", c.ThroughputRatio, 0.75)
	near("edge capacity", c.EdgeCapacity, 2e6/230)
	near("redis p99 added", c.RedisP99Added, 0.2)
	near("redis cpu ratio", c.RedisCPURatio, 250.0/230)

	v := verdicts(c, edge, 0)
	want := []string{"met", "met", "met", "met"}
	for i, s := range want {
		if v[i].Status != s {
			t.Errorf("verdict %q: %s, want %s", v[i].Target, v[i].Status, s)
		}
	}
	// Paced, the rate is the one asked for: no throughput verdict.
	if v := verdicts(c, edge, 1000); v[2].Status != "not measured" {
		t.Errorf("paced throughput verdict %+v, want not measured", v[2])
	}
}

func TestCompareWithoutCPUOrRedis(t *testing.T) {
	edge := summary(phaseEdge, 3000, 1, 3, map[string]float64{roleSelf: 150})
	bare := summary(phaseBare, 8000, 1, 1.5, map[string]float64{roleSelf: 210})
	c := compare(edge, bare, nil, 2, 0)
	if c.HasCPU || c.HasRedis {
		t.Fatalf("comparison %+v claims figures it has no phase or pid for", c)
	}
	v := verdicts(c, edge, 0)
	if v[0].Status != "not measured" || v[1].Status != "missed" || v[2].Status != "missed" || v[3].Status != "not measured" {
		t.Fatalf("verdicts %+v: want cpu and redis not measured, latency and throughput missed", v)
	}
}

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		in   []float64
		want float64
	}{{nil, 0}, {[]float64{3}, 3}, {[]float64{9, 1, 5}, 5}, {[]float64{4, 1, 3, 2}, 2.5}, {[]float64{80, 0.2, 0.3}, 0.3}} {
		if got := median(tc.in); got != tc.want {
			t.Errorf("median(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}
