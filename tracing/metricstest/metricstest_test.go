package metricstest

import (
	"fmt"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// recorder is a testing.TB whose Fatal only records, so Want's failures can be seen.
type recorder struct {
	testing.TB
	failed string
}

func (r *recorder) Helper()                        {}
func (r *recorder) Fatal(args ...any)              { r.failed = fmt.Sprint(args...) }
func (r *recorder) Fatalf(format string, a ...any) { r.failed = fmt.Sprintf(format, a...) }

func TestSeriesAndWant(t *testing.T) {
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "x_total", Help: "x"}, []string{"b", "a"})
	h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "y_seconds", Help: "y"})
	reg.MustRegister(c, h)
	c.WithLabelValues("2", "1").Add(3)
	h.Observe(0.1)
	h.Observe(0.2)

	got := Series(t, reg, "x_total", "y_seconds")
	if len(got) != 2 || got[`x_total{a="1",b="2"}`] != 3 || got[`y_seconds{}`] != 2 {
		t.Fatalf("Series = %v", got)
	}
	Want(t, reg, map[string]float64{`x_total{a="1",b="2"}`: 3})

	for name, want := range map[string]map[string]float64{
		"wrong value":   {`x_total{a="1",b="2"}`: 4},
		"extra series":  {`y_seconds{}`: 2, `x_total{a="1",b="9"}`: 0},
		"nothing asked": {},
	} {
		r := &recorder{TB: t}
		Want(r, reg, want)
		if r.failed == "" {
			t.Errorf("%s: Want passed", name)
		}
	}
}
