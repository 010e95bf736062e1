package tracing

import (
	"context"
	"testing"

	"github.com/bangbang-im/bangbang/core-im/protocol"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// chatAttr marks a span as chat traffic, as the IM code does.
func chatAttr() trace.SpanStartEventOption {
	return trace.WithAttributes(AttrTraffic.String(TrafficChat))
}

func TestSamplerDefaults(t *testing.T) {
	tr := setup(t, Config{ChatSampleRatio: -1}) // no chat sampled
	tracer := tr.Provider("gateway").Tracer("test")
	ctx := context.Background()

	chatCtx, chat := tracer.Start(ctx, "im.send", chatAttr())
	_, chatChild := tracer.Start(chatCtx, "logic.Send", trace.WithAttributes(AttrTraffic.String(TrafficMarketing)))
	mktCtx, mkt := tracer.Start(ctx, "POST /v1/jobs/promote", trace.WithAttributes(AttrTraffic.String(TrafficMarketing)))
	_, mktChild := tracer.Start(mktCtx, "soap Promote", chatAttr())
	_, plain := tracer.Start(ctx, "campaign.tick")

	for _, tc := range []struct {
		name               string
		span               trace.Span
		sampled, recording bool
	}{
		// An unsampled root still records, so an error reaching it can be kept.
		{"chat root", chat, false, true},
		{"child of an unsampled root, whatever its attributes", chatChild, false, false},
		{"marketing root", mkt, true, true},
		{"child of a sampled root, even marked chat", mktChild, true, true},
		{"root without a traffic class", plain, true, true},
	} {
		if got := tc.span.SpanContext().IsSampled(); got != tc.sampled {
			t.Errorf("%s: sampled %v, want %v", tc.name, got, tc.sampled)
		}
		if got := tc.span.IsRecording(); got != tc.recording {
			t.Errorf("%s: recording %v, want %v", tc.name, got, tc.recording)
		}
		tc.span.End()
	}
	if n := len(tr.Store().List(Query{Service: "gateway", Operation: "im.send"})); n != 0 {
		t.Errorf("store holds %d unsampled chat traces", n)
	}
	if n := len(tr.Store().List(Query{Operation: "POST /v1/jobs/promote"})); n != 1 {
		t.Errorf("store holds %d marketing traces, want 1", n)
	}
}

func TestSamplerRemoteParent(t *testing.T) {
	tr := setup(t, Config{})
	tracer := tr.Provider("logic").Tracer("test")
	for _, sampled := range []bool{true, false} {
		tc := frameTrace(t, sampled)
		_, span := tracer.Start(ContextWithFrameTrace(context.Background(), tc), "logic.Send")
		if got := span.SpanContext().IsSampled(); got != sampled {
			t.Errorf("remote parent sampled=%v: child sampled %v", sampled, got)
		}
		if span.SpanContext().TraceID() != tc.TraceID {
			t.Error("child left the remote parent's trace")
		}
		span.End()
	}
}

func TestSamplerChatRatio(t *testing.T) {
	const roots, ratio = 4000, 0.25
	tr := setup(t, Config{ChatSampleRatio: ratio, StoreBytes: -1})
	tracer := tr.Provider("gateway").Tracer("test")
	sampled := 0
	for range roots {
		_, span := tracer.Start(context.Background(), "im.send", chatAttr())
		if span.SpanContext().IsSampled() {
			sampled++
		}
		span.End()
	}
	// Binomial(4000, 0.25): mean 1000, standard deviation about 27; 8 of them is slack
	// enough never to fail by chance.
	if sampled < 780 || sampled > 1220 {
		t.Errorf("%d of %d chat roots sampled at ratio %v", sampled, roots, ratio)
	}
}

func TestSamplerFromEnv(t *testing.T) {
	for _, tc := range []struct {
		vars               map[string]string
		chatRoot, mktRoot  bool
		childOfSampledRoot bool
	}{
		{map[string]string{"OTEL_TRACES_SAMPLER": "always_on"}, true, true, true},
		{map[string]string{"OTEL_TRACES_SAMPLER": "always_off"}, false, false, false},
		{map[string]string{"OTEL_TRACES_SAMPLER": "parentbased_always_on"}, true, true, true},
		{map[string]string{"OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0"}, false, false, true},
		{map[string]string{"OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "1"}, true, true, true},
	} {
		t.Run(tc.vars["OTEL_TRACES_SAMPLER"], func(t *testing.T) {
			tr := setup(t, Config{Env: env(tc.vars), StoreBytes: -1})
			tracer := tr.Provider("gateway").Tracer("test")
			_, chat := tracer.Start(context.Background(), "im.send", chatAttr())
			_, mkt := tracer.Start(context.Background(), "refresh")
			_, child := tracer.Start(ContextWithFrameTrace(context.Background(), frameTrace(t, true)), "child")
			for _, s := range []struct {
				span trace.Span
				want bool
			}{{chat, tc.chatRoot}, {mkt, tc.mktRoot}, {child, tc.childOfSampledRoot}} {
				if got := s.span.SpanContext().IsSampled(); got != s.want {
					t.Errorf("span sampled %v, want %v", got, s.want)
				}
				s.span.End()
			}
		})
	}
}

// An error reaching the entry span of an unsampled chat trace is kept: the entry span
// (root, or the first span under a remote parent) is recorded, marked as kept for the
// error; the spans below it in the process are not recorded at all, and error-free
// unsampled traces are not stored.
func TestErrorInUnsampledTraceKept(t *testing.T) {
	tr := setup(t, Config{ChatSampleRatio: -1})
	gw, logic := tr.Provider("gateway").Tracer("test"), tr.Provider("logic").Tracer("test")

	rootCtx, root := gw.Start(context.Background(), "im.send", chatAttr())
	_, child := logic.Start(rootCtx, "logic.Send")
	if !root.IsRecording() || child.IsRecording() || !child.SpanContext().IsValid() {
		t.Fatalf("entry recording %v, child recording %v (valid %v): want true, false (true)",
			root.IsRecording(), child.IsRecording(), child.SpanContext().IsValid())
	}
	child.End()
	root.SetStatus(codes.Error, "INTERNAL")
	root.End()

	_, fine := gw.Start(context.Background(), "im.send", chatAttr())
	fine.End()

	// A process continuing the unsampled trace records its entry span too.
	remote := trace.ContextWithRemoteSpanContext(context.Background(), fine.SpanContext())
	_, entry := logic.Start(remote, "LogicService/Send")
	if !entry.IsRecording() || entry.SpanContext().IsSampled() {
		t.Errorf("entry under an unsampled remote parent: recording %v, sampled %v; want true, false", entry.IsRecording(), entry.SpanContext().IsSampled())
	}
	entry.End()

	if root.SpanContext().IsSampled() {
		t.Fatal("chat root sampled at ratio 0")
	}
	got, ok := tr.Store().Get(root.SpanContext().TraceID())
	if !ok {
		t.Fatal("the failing trace is not in the store")
	}
	if !got.Error || got.SpanCount != 1 {
		t.Fatalf("summary %+v: want an error trace of its entry span", got.TraceSummary)
	}
	n := got.Spans[0]
	if n.Name != "im.send" || n.Attributes[string(AttrKeptFor)] != KeptForError || n.Status != "error" || n.StatusMessage != "INTERNAL" {
		t.Errorf("kept span %s %v %s %q", n.Name, n.Attributes, n.Status, n.StatusMessage)
	}
	if _, ok := tr.Store().Get(fine.SpanContext().TraceID()); ok {
		t.Error("an unsampled trace without error was stored")
	}
	// The keeper forgets a trace once its local root ends.
	tr.pipeline.keep.mu.Lock()
	defer tr.pipeline.keep.mu.Unlock()
	if n := len(tr.pipeline.keep.traces); n != 0 {
		t.Errorf("keeper still tracks %d traces", n)
	}
}

// frameTrace is a remote parent as an IM frame carries it.
func frameTrace(t *testing.T, sampled bool) (tc protocol.TraceContext) {
	t.Helper()
	tc.TraceID = trace.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	tc.SpanID = trace.SpanID{1, 2, 3, 4, 5, 6, 7, 8}
	if sampled {
		tc.Flags = 1
	}
	return tc
}

// With DropUnsampled, unsampled spans are no-ops and their errors are not kept.
func TestDropUnsampled(t *testing.T) {
	tr := setup(t, Config{ChatSampleRatio: -1, DropUnsampled: true})
	tracer := tr.Provider("gateway").Tracer("test")
	_, chat := tracer.Start(context.Background(), "im.send", chatAttr())
	_, mkt := tracer.Start(context.Background(), "refresh")
	if chat.IsRecording() || !mkt.SpanContext().IsSampled() {
		t.Errorf("chat recording %v, marketing sampled %v: want false, true", chat.IsRecording(), mkt.SpanContext().IsSampled())
	}
	chat.SetStatus(codes.Error, "lost")
	chat.End()
	mkt.End()
	if _, ok := tr.Store().Get(chat.SpanContext().TraceID()); ok {
		t.Error("a dropped span reached the store")
	}
}
