package tracing

import (
	"context"
	"encoding/binary"
	"math/rand/v2"

	"go.opentelemetry.io/otel/trace"
)

// idGenerator makes random trace and span ids, as the SDK's own generator does, but from
// the runtime's per-thread generator instead of one behind a mutex; and a late span
// (lateSpanContext) takes the ids its request was already answered with.
type idGenerator struct{}

func (idGenerator) NewIDs(ctx context.Context) (trace.TraceID, trace.SpanID) {
	if sc, ok := ctx.Value(lateSpanKey{}).(trace.SpanContext); ok {
		return sc.TraceID(), sc.SpanID()
	}
	var tid trace.TraceID
	for !tid.IsValid() {
		binary.NativeEndian.PutUint64(tid[:8], rand.Uint64())
		binary.NativeEndian.PutUint64(tid[8:], rand.Uint64())
	}
	return tid, newSpanID()
}

func (idGenerator) NewSpanID(context.Context, trace.TraceID) trace.SpanID { return newSpanID() }

func newSpanID() trace.SpanID {
	var sid trace.SpanID
	for !sid.IsValid() {
		binary.NativeEndian.PutUint64(sid[:], rand.Uint64())
	}
	return sid
}

// lateSpanKey holds, in the context of a span started late, the span context it must
// have: a request's entry span that was not recorded when the request came (an
// unsampled read), made when its answer turned out to be an error, so that the error is
// kept under the ids the request's answer and logs already gave.
type lateSpanKey struct{}

// lateSpanContext returns ctx for starting the late span of sc.
func lateSpanContext(ctx context.Context, sc trace.SpanContext) context.Context {
	return context.WithValue(ctx, lateSpanKey{}, sc)
}

// isLate reports whether ctx starts a late span.
func isLate(ctx context.Context) bool {
	_, ok := ctx.Value(lateSpanKey{}).(trace.SpanContext)
	return ok
}
