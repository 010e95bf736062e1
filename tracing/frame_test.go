package tracing

import (
	"context"
	"testing"

	"github.com/bangbang-im/bangbang/core-im/protocol"
	"go.opentelemetry.io/otel/trace"
)

// A span's context travels in a frame's binary traceparent, and the receiver's span
// joins the sender's trace as its child.
func TestFrameTraceRoundTrip(t *testing.T) {
	tr := setup(t, Config{ChatSampleRatio: -1})
	for _, sampled := range []bool{true, false} {
		attrs := trace.WithAttributes(AttrTraffic.String(TrafficMarketing))
		if !sampled {
			attrs = chatAttr()
		}
		ctx, send := tr.Provider("client").Tracer("test").Start(context.Background(), "im.send", attrs)
		tc := FrameTrace(ctx)
		if tc == nil {
			t.Fatal("no frame trace from a context with a span")
		}
		wire := protocol.AppendFrame(nil, &protocol.Frame{Op: 1, Flags: protocol.FlagTrace, Seq: 7, Trace: *tc, Body: []byte("hi")})
		f, _, err := protocol.Parse(wire, 0)
		if err != nil {
			t.Fatal(err)
		}
		_, recv := tr.Provider("gateway").Tracer("test").Start(ContextWithFrameTrace(context.Background(), f.Trace), "frame.send")
		sc, parent := recv.SpanContext(), send.SpanContext()
		if sc.TraceID() != parent.TraceID() || sc.IsSampled() != sampled {
			t.Errorf("sampled=%v: receiver trace %s sampled %v, want %s", sampled, sc.TraceID(), sc.IsSampled(), parent.TraceID())
		}
		recv.End()
		send.End()
		if sampled {
			got, ok := tr.Store().Get(parent.TraceID())
			if !ok || len(got.Spans) != 1 || len(got.Spans[0].Children) != 1 || got.Spans[0].Children[0].Service != "gateway" {
				t.Errorf("stored trace %+v: want the gateway span under the client's", got)
			}
		}
	}
}

func TestFrameTraceWithoutSpan(t *testing.T) {
	if tc := FrameTrace(context.Background()); tc != nil {
		t.Errorf("FrameTrace without a span = %+v, want nil", tc)
	}
	ctx := context.Background()
	if got := ContextWithFrameTrace(ctx, protocol.TraceContext{Flags: 1}); got != ctx {
		t.Error("an invalid frame trace changed the context")
	}
	// Flag bits other than sampled are not passed on.
	tc := protocol.TraceContext{TraceID: [16]byte{1}, SpanID: [8]byte{1}, Flags: 0xff}
	sc := trace.SpanContextFromContext(ContextWithFrameTrace(ctx, tc))
	if !sc.IsRemote() || sc.TraceFlags() != trace.FlagsSampled {
		t.Errorf("span context %+v: want remote, flags 01", sc)
	}
}
