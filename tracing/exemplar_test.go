package tracing

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"go.opentelemetry.io/otel/trace"

	"github.com/bangbang-im/bangbang/tracing/metricstest"
)

// spanCtx is a context carrying a remote span context of trace id tid, sampled or not.
func spanCtx(tid string, sampled bool) context.Context {
	traceID, err := trace.TraceIDFromHex(tid)
	if err != nil {
		panic(err)
	}
	cfg := trace.SpanContextConfig{TraceID: traceID, SpanID: trace.SpanID{1}, Remote: true}
	if sampled {
		cfg.TraceFlags = trace.FlagsSampled
	}
	return trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(cfg))
}

// exemplars gathers g and returns the trace_id of every bucket exemplar of the histogram
// family name, by the series' labels ("k=v,…"), with the value each exemplar carries.
func exemplars(t *testing.T, g prometheus.Gatherer, name string) map[string][]exemplar {
	t.Helper()
	fams, err := g.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	out := map[string][]exemplar{}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			key := strings.Join(labels, ",")
			out[key] = nil // a series without exemplars is present, empty
			for _, b := range m.GetHistogram().GetBucket() {
				if e := b.GetExemplar(); e != nil {
					out[key] = append(out[key], exemplarOf(t, e))
				}
			}
		}
	}
	return out
}

type exemplar struct {
	traceID string
	value   float64
}

func exemplarOf(t *testing.T, e *dto.Exemplar) exemplar {
	t.Helper()
	if len(e.GetLabel()) != 1 || e.GetLabel()[0].GetName() != exemplarTraceID {
		t.Fatalf("exemplar labels %v, want only %s", e.GetLabel(), exemplarTraceID)
	}
	return exemplar{traceID: e.GetLabel()[0].GetValue(), value: e.GetValue()}
}

// TestObserve: an observation inside a sampled span carries its trace id as the exemplar
// of its bucket; one in an unsampled trace or outside any carries none, and every one is
// counted.
func TestObserve(t *testing.T) {
	const tid = "4bf92f3577b34da6a3ce929d0e0e4736"
	for _, tc := range []struct {
		name string
		ctx  context.Context
		want []exemplar
	}{
		{"sampled", spanCtx(tid, true), []exemplar{{tid, 0.003}}},
		{"unsampled", spanCtx(tid, false), nil},
		{"no span", context.Background(), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, via := range []string{"Observe", "ObserveSpan"} {
				reg := prometheus.NewPedanticRegistry()
				h := prometheus.NewHistogramVec(prometheus.HistogramOpts{
					Name: "test_seconds", Help: "test", Buckets: LatencyBuckets,
				}, []string{"op"})
				reg.MustRegister(h)
				if via == "Observe" {
					Observe(tc.ctx, h.WithLabelValues("x"), 0.003)
				} else {
					ObserveSpan(trace.SpanContextFromContext(tc.ctx), h.WithLabelValues("x"), 0.003)
				}
				got := exemplars(t, reg, "test_seconds")
				if len(got) != 1 || !equalExemplars(got["op=x"], tc.want) {
					t.Errorf("%s: exemplars %v, want op=x: %v", via, got, tc.want)
				}
				metricstest.Want(t, reg, map[string]float64{`test_seconds{op="x"}`: 1})
			}
		})
	}
}

func equalExemplars(a, b []exemplar) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestMetricsHandler: a scraper asking for OpenMetrics gets it, exemplars included; any
// other gets the Prometheus text format, which has none.
func TestMetricsHandler(t *testing.T) {
	const tid = "0af7651916cd43dd8448eb211c80319c"
	reg := prometheus.NewPedanticRegistry()
	h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "test_seconds", Help: "test", Buckets: LatencyBuckets})
	reg.MustRegister(h)
	Observe(spanCtx(tid, true), h, 0.003)
	srv := httptest.NewServer(MetricsHandler(reg, reg))
	defer srv.Close()

	scrape := func(t *testing.T, accept string) (contentType, body string) {
		t.Helper()
		req, err := http.NewRequest("GET", srv.URL, nil)
		if err != nil {
			t.Fatal(err)
		}
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != 200 {
			t.Fatalf("status %d: %s", resp.StatusCode, b)
		}
		return resp.Header.Get("Content-Type"), string(b)
	}
	const bucket = `test_seconds_bucket{le="0.005"} 1`
	withExemplar := bucket + ` # {trace_id="` + tid + `"} 0.003 `

	t.Run("openmetrics", func(t *testing.T) {
		ct, body := scrape(t, "application/openmetrics-text; version=1.0.0")
		if !strings.HasPrefix(ct, "application/openmetrics-text; version=1.0.0") {
			t.Errorf("Content-Type %q, want OpenMetrics 1.0.0", ct)
		}
		if !strings.Contains(body, "\n"+withExemplar) {
			t.Errorf("no line %q in:\n%s", withExemplar, body)
		}
		if !strings.HasSuffix(body, "# EOF\n") {
			t.Errorf("body does not end with # EOF:\n%s", body)
		}
	})
	for _, accept := range []string{"", "text/plain", "*/*"} {
		t.Run("accept "+accept, func(t *testing.T) {
			ct, body := scrape(t, accept)
			if !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
				t.Errorf("Content-Type %q, want the text format", ct)
			}
			if !strings.Contains(body, "\n"+bucket+"\n") {
				t.Errorf("no line %q in:\n%s", bucket, body)
			}
			if strings.Contains(body, "trace_id") || strings.Contains(body, "# EOF") {
				t.Errorf("OpenMetrics in the text format:\n%s", body)
			}
		})
	}
}
