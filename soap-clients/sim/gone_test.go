package sim

import (
	"context"
	"errors"
	"testing"

	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// A call its client gave up on before the (injected) latency ran out has no answer: its
// server span says 499 and why, never 200.
func TestSpanOfAbandonedCall(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	s := startSim(t, func(c *Config) { c.TracerProvider, c.Propagators = tp, propagation.TraceContext{} })
	if err := s.SetFaults(Housing, Faults{Latency: maxLatency}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- refreshOnce(t, s, ctx) }()
	waitFor(t, "the call to reach the operation", func() bool {
		st, _ := s.Stats(Housing)
		return st.Calls["RefreshListing"] == 1
	})
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("the abandoned call returned %v", err)
	}
	waitFor(t, "the server span to end", func() bool { return len(rec.Ended()) == 1 })
	sp := rec.Ended()[0]
	status := int64(0)
	for _, kv := range sp.Attributes() {
		if kv.Key == "http.response.status_code" {
			status = kv.Value.AsInt64()
		}
	}
	var gone bool
	for _, ev := range sp.Events() {
		gone = gone || ev.Name == "client gone before the answer"
	}
	if status != statusClientClosedRequest || !gone {
		t.Errorf("span of the abandoned call: status %d, events %v; want 499 and the client-gone event", status, sp.Events())
	}
}
