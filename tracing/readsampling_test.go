package tracing

import (
	"context"
	"testing"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/app/server"
	"github.com/cloudwego/hertz/pkg/common/ut"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// The edge's reads are sampled at the read ratio, its state-changing and paid actions
// always kept, and a read answered with a server error kept anyway.
func TestMarketingReadsSampled(t *testing.T) {
	tr := setup(t, Config{ReadSampleRatio: -1}) // no read sampled
	h := server.New()
	h.Use(HertzServer(tr.Provider("edge"), propagation.TraceContext{}, MarketingTraffic))
	h.GET("/v1/credits", func(_ context.Context, c *app.RequestContext) { c.SetStatusCode(200) })
	h.GET("/v1/listings/:id/stats", func(_ context.Context, c *app.RequestContext) { c.SetStatusCode(502) })
	h.POST("/v1/listings/:id/refresh", func(_ context.Context, c *app.RequestContext) { c.SetStatusCode(200) })
	for _, r := range []struct{ method, path string }{
		{"GET", "/v1/credits"}, {"GET", "/v1/listings/L1/stats"}, {"POST", "/v1/listings/L1/refresh"},
	} {
		ut.PerformRequest(h.Engine, r.method, "http://example.com"+r.path, nil)
	}
	for op, want := range map[string]int{
		"GET /v1/credits":               0, // a healthy read, not sampled
		"GET /v1/listings/:id/stats":    1, // a failed read: kept for its error
		"POST /v1/listings/:id/refresh": 1, // a state-changing action: always
	} {
		got := tr.Store().List(Query{Service: "edge", Operation: op})
		if len(got) != want {
			t.Errorf("%s: %d traces kept, want %d", op, len(got), want)
		}
	}
	stats := tr.Store().List(Query{Operation: "GET /v1/listings/:id/stats"})
	if len(stats) == 1 && !stats[0].Error {
		t.Errorf("the failed read's trace is not an error: %+v", stats[0])
	}
}

func TestSamplerReadRatio(t *testing.T) {
	const roots, ratio = 4000, 0.25
	tr := setup(t, Config{ReadSampleRatio: ratio, ChatSampleRatio: -1, StoreBytes: -1})
	tracer := tr.Provider("edge").Tracer("test")
	sampled := map[string]int{}
	for _, class := range []string{TrafficRead, TrafficMarketing} {
		for range roots {
			_, span := tracer.Start(context.Background(), "GET /v1/credits", startAttr(class))
			if span.SpanContext().IsSampled() {
				sampled[class]++
			}
			span.End()
		}
	}
	// Binomial(4000, 0.25): mean 1000, standard deviation about 27.
	if n := sampled[TrafficRead]; n < 780 || n > 1220 {
		t.Errorf("%d of %d read roots sampled at ratio %v", n, roots, ratio)
	}
	if n := sampled[TrafficMarketing]; n != roots {
		t.Errorf("%d of %d marketing roots sampled, want all", n, roots)
	}
}

func TestMarketingTraffic(t *testing.T) {
	for method, want := range map[string]string{"GET": TrafficRead, "HEAD": TrafficRead, "POST": TrafficMarketing,
		"PUT": TrafficMarketing, "DELETE": TrafficMarketing, "PATCH": TrafficMarketing} {
		if got := MarketingTraffic(method); got != want {
			t.Errorf("%s: %s, want %s", method, got, want)
		}
	}
}

func startAttr(class string) trace.SpanStartEventOption {
	return trace.WithAttributes(AttrTraffic.String(class))
}
