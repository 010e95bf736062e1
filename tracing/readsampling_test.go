package tracing

import (
	"context"
	"strings"
	"testing"
	"time"

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

// An unsampled read records nothing while it runs; when it fails, its span is made at the
// end (late) under the ids its answer named and from the moment it came, described as a
// kept span is, and kept for its error.
func TestFailedReadKeptLate(t *testing.T) {
	tr := setup(t, Config{ReadSampleRatio: -1})
	h := server.New(server.WithDisablePrintRoute(true))
	h.Use(HertzServer(tr.Provider("edge"), propagation.TraceContext{}, MarketingTraffic))
	var recording []bool
	var handled time.Time
	h.GET("/v1/listings/:id/stats", func(ctx context.Context, c *app.RequestContext) {
		recording = append(recording, trace.SpanFromContext(ctx).IsRecording())
		handled = time.Now()
		if c.Param("id") == "bad" {
			c.SetStatusCode(502)
		}
	})
	before := time.Now()
	ok := ut.PerformRequest(h.Engine, "GET", "http://example.com/v1/listings/good/stats", nil)
	bad := ut.PerformRequest(h.Engine, "GET", "http://example.com/v1/listings/bad/stats", nil)
	if len(recording) != 2 || recording[0] || recording[1] {
		t.Fatalf("the reads' spans were recording while they ran: %v", recording)
	}
	for _, w := range []*ut.ResponseRecorder{ok, bad} {
		if tp := w.Header().Get("traceresponse"); len(tp) != 55 || !strings.HasSuffix(tp, "-00") {
			t.Errorf("traceresponse %q, want an unsampled W3C traceresponse", tp)
		}
	}
	tid, err := trace.TraceIDFromHex(strings.Split(bad.Header().Get("traceresponse"), "-")[1])
	if err != nil {
		t.Fatal(err)
	}
	got, found := tr.Store().Get(tid)
	if !found || len(got.Spans) != 1 {
		t.Fatalf("the failed read's trace %s: found %v, %+v", tid, found, got)
	}
	sp := got.Spans[0]
	if want := strings.Split(bad.Header().Get("traceresponse"), "-")[2]; sp.SpanID != want {
		t.Errorf("the late span is %s, the answer named %s", sp.SpanID, want)
	}
	if sp.Status != "error" || sp.Name != "GET /v1/listings/:id/stats" || sp.Kind != "server" ||
		sp.Attributes["http.route"] != "/v1/listings/:id/stats" || sp.Attributes["url.path"] != "/v1/listings/bad/stats" ||
		sp.Attributes["http.response.status_code"] != int64(502) || sp.Attributes[string(AttrKeptFor)] != KeptForError {
		t.Errorf("the late span: %+v", sp)
	}
	if sp.Start.Before(before) || !sp.Start.Before(handled) {
		t.Errorf("the late span starts at %v, want when the request came (between %v and %v)", sp.Start, before, handled)
	}
	if n := len(tr.Store().List(Query{Service: "edge"})); n != 1 {
		t.Errorf("%d traces stored, want the failed read's only", n)
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

// A read's root left out by the ratio is dropped, not recorded; started late (with the
// ids it had), it is recorded like any unsampled entry span, under those ids.
func TestSamplerDropsUnsampledReadsUntilLate(t *testing.T) {
	tr := setup(t, Config{ReadSampleRatio: -1, StoreBytes: -1})
	tracer := tr.Provider("edge").Tracer("test")
	_, span := tracer.Start(context.Background(), "GET /v1/credits", startAttr(TrafficRead))
	sc := span.SpanContext()
	if span.IsRecording() || !sc.IsValid() || sc.IsSampled() {
		t.Fatalf("an unsampled read: recording %v, span context %v", span.IsRecording(), sc)
	}
	span.End()
	_, late := tracer.Start(lateSpanContext(context.Background(), sc), "GET /v1/credits", startAttr(TrafficRead))
	defer late.End()
	if !late.IsRecording() || late.SpanContext().TraceID() != sc.TraceID() || late.SpanContext().SpanID() != sc.SpanID() ||
		late.SpanContext().IsSampled() {
		t.Errorf("the late span: recording %v, %v, want recording, unsampled, with the ids of %v", late.IsRecording(), late.SpanContext(), sc)
	}
	if d := tr.sampler.Description(); !strings.Contains(d, "unsampled entry spans recorded, unsampled reads dropped (a failed one made late, recorded)") {
		t.Errorf("the sampler describes itself as %q", d)
	}
	// Chat keeps recording its unsampled roots; fresh ids are valid and differ.
	_, chat := tracer.Start(context.Background(), "im.send", startAttr(TrafficChat))
	defer chat.End()
	if !chat.IsRecording() || chat.SpanContext().TraceID() == sc.TraceID() {
		t.Errorf("an unsampled chat root: recording %v, trace %v", chat.IsRecording(), chat.SpanContext().TraceID())
	}
}
