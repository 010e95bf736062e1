package tracing

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// pipeline is the one span processor every provider of a process registers. It forwards
// sampled spans to the sinks (store, OTLP batcher) and lets errorKeeper pick the
// unsampled spans worth keeping. Its Shutdown does nothing: a provider shutting down must
// not stop the sinks the other providers share; Tracing.Shutdown stops them once.
type pipeline struct {
	sinks []sdktrace.SpanProcessor
	keep  errorKeeper
}

func (p *pipeline) OnStart(context.Context, sdktrace.ReadWriteSpan) {}

func (p *pipeline) OnEnd(s sdktrace.ReadOnlySpan) {
	if isScriptCacheMiss(s) {
		s = scriptCacheMiss{s}
	}
	if !s.SpanContext().IsSampled() {
		if !p.keep.keep(s) {
			return
		}
		s = keptSpan{s}
	}
	for _, sink := range p.sinks {
		sink.OnEnd(s)
	}
}

func (p *pipeline) Shutdown(context.Context) error { return nil }

func (p *pipeline) ForceFlush(ctx context.Context) error {
	var err error
	for _, sink := range p.sinks {
		err = errors.Join(err, sink.ForceFlush(ctx))
	}
	return err
}

// maxErrorTraces bounds the unsampled traces errorKeeper remembers at once; past it, an
// arbitrary one is forgotten (its remaining ancestors are then not kept).
const maxErrorTraces = 4096

// errorKeeper decides which spans of unsampled traces are exported: a span ending with
// status Error, and every span of the same trace that ends after it until the local root
// (a span whose parent is absent or remote) ends. Ancestors end after their descendants,
// so that is the path from the error to the root.
type errorKeeper struct {
	n      atomic.Int64 // len(traces), read without the lock on the common path
	mu     sync.Mutex
	traces map[trace.TraceID]struct{}
}

func (k *errorKeeper) keep(s sdktrace.ReadOnlySpan) bool {
	isErr := s.Status().Code == codes.Error
	if !isErr && k.n.Load() == 0 {
		return false
	}
	id := s.SpanContext().TraceID()
	localRoot := !s.Parent().IsValid() || s.Parent().IsRemote()
	k.mu.Lock()
	defer k.mu.Unlock()
	_, marked := k.traces[id]
	switch {
	case localRoot:
		if marked {
			delete(k.traces, id)
		}
	case isErr && !marked:
		if k.traces == nil {
			k.traces = make(map[trace.TraceID]struct{})
		}
		if len(k.traces) >= maxErrorTraces {
			for old := range k.traces {
				delete(k.traces, old)
				break
			}
		}
		k.traces[id] = struct{}{}
	}
	k.n.Store(int64(len(k.traces)))
	return isErr || marked
}

// keptSpan presents an unsampled span as sampled, so that the sinks (which export only
// sampled spans, as the SDK's batcher does) take it, and marks it as kept for an error.
type keptSpan struct{ sdktrace.ReadOnlySpan }

func (s keptSpan) SpanContext() trace.SpanContext {
	sc := s.ReadOnlySpan.SpanContext()
	return sc.WithTraceFlags(sc.TraceFlags().WithSampled(true))
}

func (s keptSpan) Attributes() []attribute.KeyValue {
	return append(slices.Clip(s.ReadOnlySpan.Attributes()), AttrKeptFor.String(KeptForError))
}

// isScriptCacheMiss reports whether s is a Redis command answered NOSCRIPT: an EVALSHA
// whose script was not in Redis's script cache (empty after a restart or SCRIPT FLUSH).
// Every caller recovers from it (redis.Script.Run, which redis_rate uses, sends the
// script with EVAL; the route table loads its scripts and sends the pipeline again), so
// it is a cache miss, not a failure, and must not flag a healthy request as an error nor
// be kept as one from an unsampled trace.
func isScriptCacheMiss(s sdktrace.ReadOnlySpan) bool {
	st := s.Status()
	if st.Code != codes.Error || !strings.HasPrefix(st.Description, "NOSCRIPT") {
		return false
	}
	for _, kv := range s.Attributes() {
		if kv.Key == attrDBSystem && kv.Value.AsString() == "redis" {
			return true
		}
	}
	return false
}

// attrDBSystem is the database attribute the Redis instrumentation sets.
const attrDBSystem = attribute.Key("db.system")

// scriptCacheMiss presents a span isScriptCacheMiss picked with its status unset, and
// says what happened in db.response.status_code (the Redis error prefix, as the
// semantic conventions put it). The exception event stays.
type scriptCacheMiss struct{ sdktrace.ReadOnlySpan }

func (s scriptCacheMiss) Status() sdktrace.Status { return sdktrace.Status{Code: codes.Unset} }

func (s scriptCacheMiss) Attributes() []attribute.KeyValue {
	return append(slices.Clip(s.ReadOnlySpan.Attributes()), attribute.String("db.response.status_code", "NOSCRIPT"))
}
