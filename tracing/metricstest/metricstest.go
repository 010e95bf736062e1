// Package metricstest reads a Prometheus registry in tests as plain series, so a test can
// assert exact values: `name{label="value",…}` (labels in name order, as the exposition
// format writes them) to a counter's or gauge's value, or a histogram's count of
// observations. It is for the tests of the packages that register metrics.
package metricstest

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// Series returns every series of the families named in names, gathered from g.
func Series(t testing.TB, g prometheus.Gatherer, names ...string) map[string]float64 {
	t.Helper()
	fams, err := g.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	out := map[string]float64{}
	for _, f := range fams {
		if !slices.Contains(names, f.GetName()) {
			continue
		}
		for _, m := range f.GetMetric() {
			out[seriesName(f.GetName(), m)] = sampleValue(m)
		}
	}
	return out
}

// Want fails the test unless the series of the families named in want are exactly want:
// a series present but not wanted fails it too.
func Want(t testing.TB, g prometheus.Gatherer, want map[string]float64) {
	t.Helper()
	if len(want) == 0 {
		t.Fatal("metricstest.Want: want names no family; assert absence with Series")
	}
	var names []string
	for k := range want {
		name, _, _ := strings.Cut(k, "{")
		names = append(names, name)
	}
	if got := Series(t, g, names...); !maps.Equal(got, want) {
		t.Fatalf("metrics:\n%s\nwant:\n%s", render(got), render(want))
	}
}

func seriesName(name string, m *dto.Metric) string {
	var b strings.Builder
	b.WriteString(name)
	b.WriteByte('{')
	for i, l := range m.GetLabel() {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%s=%q", l.GetName(), l.GetValue())
	}
	b.WriteByte('}')
	return b.String()
}

func sampleValue(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.GetCounter().GetValue()
	case m.Gauge != nil:
		return m.GetGauge().GetValue()
	case m.Histogram != nil:
		return float64(m.GetHistogram().GetSampleCount())
	}
	return math.NaN()
}

func render(series map[string]float64) string {
	var lines []string
	for k, v := range series {
		lines = append(lines, fmt.Sprintf("  %s %v", k, v))
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}
