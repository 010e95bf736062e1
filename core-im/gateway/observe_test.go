package gateway

import (
	"errors"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/bangbang-im/bangbang/core-im/protocol"
	"github.com/bangbang-im/bangbang/gen/common"
	"github.com/bangbang-im/bangbang/gen/frame"
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
			fault := c.expectError(seq, common.ErrorCode_INTERNAL)
			c.heartbeat() // not a request worth a span or a count

			counts := requestCounts(t, reg)
			want := map[string]uint64{"AUTH ok": 1, "SEND ok": 1, "SEND INTERNAL": 1}
			if len(counts) != len(want) {
				t.Errorf("request series = %v, want %v", counts, want)
			}
			for k, n := range want {
				if counts[k] != n {
					t.Errorf("%s observations = %d, want %d (all: %v)", k, counts[k], n, counts)
				}
			}
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

// requestCounts reads bangbang_gateway_request_duration_seconds as "OP outcome" → count.
func requestCounts(t *testing.T, reg *prometheus.Registry) map[string]uint64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]uint64{}
	for _, mf := range mfs {
		if mf.GetName() != "bangbang_gateway_request_duration_seconds" {
			continue
		}
		for _, m := range mf.GetMetric() {
			out[label(m, "op")+" "+label(m, "outcome")] = m.GetHistogram().GetSampleCount()
		}
	}
	return out
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}
