package gateway

import (
	"errors"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/bangbang-im/bangbang/core-im/protocol"
	"github.com/bangbang-im/bangbang/gen/common"
	"github.com/bangbang-im/bangbang/gen/frame"
	"github.com/bangbang-im/bangbang/tracing/metricstest"
)

// TestRequestMetricsAndSpans: each request is counted under its op and outcome, with
// tracing on or off; with tracing on each is a server span, a server fault marks it as an
// error, and the ERROR names the span's trace.
func TestRequestMetricsAndSpans(t *testing.T) {
	for _, traced := range []bool{false, true} {
		name := "untraced"
		if traced {
			name = "traced"
		}
		t.Run(name, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			rec := tracetest.NewSpanRecorder()
			e := start(t, viaGoroutine, func(c *Config) {
				c.Metrics = reg
				if traced {
					c.TracerProvider = sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
				}
			})
			c := e.dial(t)
			c.login(e, "m1001", "phone")
			seq := c.send(protocol.OpSend, &frame.SendRequest{ClientMsgId: "c-1", ToUser: "c2001", Body: []byte("hi")})
			if f, err := c.next(); err != nil || f.Op != protocol.OpSendAck || f.Seq != seq {
				t.Fatalf("want the SEND_ACK, got %v %v", f.Op, err)
			}
			e.logic.set(func(f *fakeLogic) { f.sendErr = errors.New("database on fire") })
			seq = c.send(protocol.OpSend, &frame.SendRequest{ClientMsgId: "c-2", ToUser: "c2001", Body: []byte("hi")})
			fault := c.expectError(seq, common.ErrorCode_UNAVAILABLE)
			c.heartbeat()

			// The heartbeat is neither a span nor a count.
			metricstest.Want(t, reg, map[string]float64{
				`bangbang_gateway_request_duration_seconds{op="AUTH",outcome="ok"}`:          1,
				`bangbang_gateway_request_duration_seconds{op="SEND",outcome="ok"}`:          1,
				`bangbang_gateway_request_duration_seconds{op="SEND",outcome="UNAVAILABLE"}`: 1,
			})
			if !traced {
				if len(rec.Ended()) != 0 || fault.TraceId != "" {
					t.Errorf("untraced gateway made %d spans, trace id %q", len(rec.Ended()), fault.TraceId)
				}
				return
			}
			spans := rec.Ended()
			if len(spans) != 3 {
				t.Fatalf("%d spans, want AUTH and two SENDs", len(spans))
			}
			failed := spans[2]
			if failed.Name() != "IM SEND" || failed.Status().Code != codes.Error || failed.SpanContext().TraceID().String() != fault.TraceId {
				t.Errorf("failed SEND span %s %v trace %s; ERROR names %q", failed.Name(), failed.Status(), failed.SpanContext().TraceID(), fault.TraceId)
			}
			if ok := spans[1]; ok.Status().Code == codes.Error {
				t.Errorf("the acked SEND's span is an error: %v", ok.Status())
			}
		})
	}
}
