package store

import (
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"go.opentelemetry.io/otel/trace"
)

// TestObserveLatency: a store call's latency observed inside a sampled span carries its
// trace id as its bucket's exemplar; one in an unsampled trace or outside any, none.
func TestObserveLatency(t *testing.T) {
	const tid = "4bf92f3577b34da6a3ce929d0e0e4736"
	traceID, err := trace.TraceIDFromHex(tid)
	if err != nil {
		t.Fatal(err)
	}
	in := func(flags trace.TraceFlags) context.Context {
		return trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{
			TraceID: traceID, SpanID: trace.SpanID{1}, TraceFlags: flags}))
	}
	for _, c := range []struct {
		name string
		ctx  context.Context
		want string // the exemplar's trace_id; "" for none
	}{
		{"sampled", in(trace.FlagsSampled), tid},
		{"unsampled", in(0), ""},
		{"no span", context.Background(), ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "test_seconds", Buckets: latencyBuckets})
			observeLatency(c.ctx, h, 0.003)
			var m dto.Metric
			if err := h.Write(&m); err != nil {
				t.Fatal(err)
			}
			if n := m.GetHistogram().GetSampleCount(); n != 1 {
				t.Fatalf("%d observations, want 1", n)
			}
			var got []string
			for _, b := range m.GetHistogram().GetBucket() {
				if e := b.GetExemplar(); e != nil {
					for _, l := range e.GetLabel() {
						got = append(got, l.GetName()+"="+l.GetValue())
					}
				}
			}
			switch {
			case c.want == "" && len(got) != 0:
				t.Errorf("exemplar labels %v, want none", got)
			case c.want != "" && (len(got) != 1 || got[0] != "trace_id="+c.want):
				t.Errorf("exemplar labels %v, want [trace_id=%s]", got, c.want)
			}
		})
	}
}
