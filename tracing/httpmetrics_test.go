package tracing

import (
	"context"
	"fmt"
	"testing"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/app/server"
	"github.com/cloudwego/hertz/pkg/common/ut"
	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/bangbang-im/bangbang/tracing/metricstest"
)

// TestHTTPMetrics: requests are counted under their route pattern; a 405 under
// method_not_allowed, a 404 under unmatched; the duration of a request in a sampled trace
// carries its trace id as an exemplar, one in an unsampled trace none. Both middleware
// orders: the metrics outside the server span (as the servers wire them), and inside it.
func TestHTTPMetrics(t *testing.T) {
	const (
		sampled   = "4bf92f3577b34da6a3ce929d0e0e4736"
		unsampled = "0af7651916cd43dd8448eb211c80319c"
	)
	for _, order := range []string{"metrics outside", "metrics inside"} {
		t.Run(order, func(t *testing.T) {
			reg := prometheus.NewPedanticRegistry()
			m, err := NewHTTPMetrics(reg)
			if err != nil {
				t.Fatal(err)
			}
			tp := sdktrace.NewTracerProvider() // parent-based: a request's traceparent decides
			t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
			spans := HertzServer(tp, propagation.TraceContext{}, Always(TrafficMarketing))

			h := server.New(server.WithHandleMethodNotAllowed(true))
			if order == "metrics outside" {
				h.Use(m.Hertz("edge"), spans)
			} else {
				h.Use(spans, m.Hertz("edge"))
			}
			ok := func(_ context.Context, c *app.RequestContext) { c.SetStatusCode(200) }
			h.GET("/v1/items/:id", ok)
			h.GET("/v1/other", ok)

			for _, r := range []struct {
				method, path string
				sampled      bool // the caller's trace: its traceparent's flags
				status       int
			}{
				{"GET", "/v1/items/42", true, 200},
				{"GET", "/v1/other", false, 200},
				{"DELETE", "/v1/items/42", true, 405},
				{"GET", "/v1/nothing", false, 404},
			} {
				parent := "00-" + unsampled + "-00f067aa0ba902b7-00"
				if r.sampled {
					parent = "00-" + sampled + "-00f067aa0ba902b7-01"
				}
				w := ut.PerformRequest(h.Engine, r.method, "http://example.com"+r.path, nil, ut.Header{Key: "traceparent", Value: parent})
				if w.Code != r.status {
					t.Fatalf("%s %s: status %d, want %d", r.method, r.path, w.Code, r.status)
				}
			}

			metricstest.Want(t, reg, map[string]float64{
				`bangbang_http_requests_total{method="GET",route="/v1/items/:id",server="edge",status="200"}`:         1,
				`bangbang_http_requests_total{method="GET",route="/v1/other",server="edge",status="200"}`:             1,
				`bangbang_http_requests_total{method="DELETE",route="method_not_allowed",server="edge",status="405"}`: 1,
				`bangbang_http_requests_total{method="GET",route="unmatched",server="edge",status="404"}`:             1,
			})
			got := exemplars(t, reg, "bangbang_http_request_duration_seconds")
			for series, want := range map[string][]string{
				"method=GET,route=/v1/items/:id,server=edge":         {sampled},
				"method=GET,route=/v1/other,server=edge":             nil,
				"method=DELETE,route=method_not_allowed,server=edge": {sampled},
				"method=GET,route=unmatched,server=edge":             nil,
			} {
				e, present := got[series]
				if !present {
					t.Errorf("no duration series %s in %v", series, got)
					continue
				}
				var ids []string
				for _, x := range e {
					ids = append(ids, x.traceID)
				}
				if fmt.Sprint(ids) != fmt.Sprint(want) {
					t.Errorf("%s: exemplar trace ids %v, want %v", series, ids, want)
				}
			}
			if len(got) != 4 {
				t.Errorf("duration series %v, want 4", got)
			}
		})
	}
}
