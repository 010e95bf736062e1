package tracing

import (
	"math"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
)

// Bounds on the structure of ingested attribute values, beyond the span bounds.
const (
	maxValueDepth = 4
	maxValueItems = 64
)

// Ingest stores the spans of an OTLP export request, as another process sends them. A
// span without a valid trace or span id is rejected; the others are stored, and both
// are counted (Stats).
func (s *Store) Ingest(req *coltracepb.ExportTraceServiceRequest) (accepted, rejected int) {
	var recs []*record
	for _, rs := range req.GetResourceSpans() {
		service := serviceOf(rs.GetResource().GetAttributes())
		var res *spanResource // one for the spans of rs, and only if it has some
		for _, ss := range rs.GetScopeSpans() {
			for _, sp := range ss.GetSpans() {
				r, ok := recordFromOTLP(sp, service)
				if !ok {
					rejected++
					continue
				}
				if res == nil {
					res = resourceOf(attribute.NewSet(attrsFromOTLP(rs.GetResource().GetAttributes(), maxSpanAttrs)...))
				}
				r.resource = res
				recs = append(recs, r)
			}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ingestAccepted += int64(len(recs))
	s.ingestRejected += int64(rejected)
	for _, r := range recs {
		s.add(r)
	}
	return len(recs), rejected
}

func serviceOf(attrs []*commonpb.KeyValue) string {
	for _, kv := range attrs {
		if kv.GetKey() == string(semconv.ServiceNameKey) {
			if v := kv.GetValue().GetStringValue(); v != "" {
				return truncate(v, maxNameLen)
			}
		}
	}
	return unknownService
}

func recordFromOTLP(sp *tracepb.Span, service string) (*record, bool) {
	r := &record{service: service}
	if len(sp.GetTraceId()) != len(r.traceID) || len(sp.GetSpanId()) != len(r.spanID) {
		return nil, false
	}
	copy(r.traceID[:], sp.GetTraceId())
	copy(r.spanID[:], sp.GetSpanId())
	if !r.traceID.IsValid() || !r.spanID.IsValid() {
		return nil, false
	}
	switch p := sp.GetParentSpanId(); len(p) {
	case 0:
	case len(r.parentID):
		copy(r.parentID[:], p)
	default:
		return nil, false
	}
	r.name = truncate(sp.GetName(), maxNameLen)
	if k := trace.SpanKind(sp.GetKind()); k >= trace.SpanKindInternal && k <= trace.SpanKindConsumer {
		r.kind = k // the OTLP and API enums share their numbers
	}
	r.start, r.end = unixNano(sp.GetStartTimeUnixNano()), unixNano(sp.GetEndTimeUnixNano())
	switch sp.GetStatus().GetCode() {
	case tracepb.Status_STATUS_CODE_ERROR:
		r.status = codes.Error
	case tracepb.Status_STATUS_CODE_OK:
		r.status = codes.Ok
	}
	r.statusMessage = truncate(sp.GetStatus().GetMessage(), maxValueLen)
	r.attrs = attrsFromOTLP(sp.GetAttributes(), maxSpanAttrs)
	for i, ev := range sp.GetEvents() {
		if i == maxSpanEvents {
			break
		}
		r.events = append(r.events, event{
			name:  truncate(ev.GetName(), maxNameLen),
			time:  unixNano(ev.GetTimeUnixNano()),
			attrs: attrsFromOTLP(ev.GetAttributes(), maxSpanAttrs),
		})
	}
	r.fix()
	return r, true
}

func unixNano(ns uint64) time.Time {
	return time.Unix(0, int64(min(ns, math.MaxInt64))).UTC()
}

func attrsFromOTLP(kvs []*commonpb.KeyValue, limit int) []attribute.KeyValue {
	if len(kvs) == 0 {
		return nil
	}
	kvs = kvs[:min(len(kvs), limit)]
	out := make([]attribute.KeyValue, 0, len(kvs))
	for _, kv := range kvs {
		if kv.GetKey() == "" {
			continue
		}
		out = append(out, attribute.KeyValue{
			Key:   attribute.Key(truncate(kv.GetKey(), maxNameLen)),
			Value: valueFromOTLP(kv.GetValue(), 0),
		})
	}
	return out
}

// valueFromOTLP converts an AnyValue, truncating strings and bytes, and cutting arrays
// and maps at maxValueItems entries and maxValueDepth levels.
func valueFromOTLP(v *commonpb.AnyValue, depth int) attribute.Value {
	switch x := v.GetValue().(type) {
	case *commonpb.AnyValue_StringValue:
		return attribute.StringValue(truncate(x.StringValue, maxValueLen))
	case *commonpb.AnyValue_BoolValue:
		return attribute.BoolValue(x.BoolValue)
	case *commonpb.AnyValue_IntValue:
		return attribute.Int64Value(x.IntValue)
	case *commonpb.AnyValue_DoubleValue:
		return attribute.Float64Value(x.DoubleValue)
	case *commonpb.AnyValue_BytesValue:
		return attribute.ByteSliceValue(x.BytesValue[:min(len(x.BytesValue), maxValueLen)])
	case *commonpb.AnyValue_ArrayValue:
		if depth >= maxValueDepth {
			return attribute.StringValue("[…]")
		}
		vs := x.ArrayValue.GetValues()
		out := make([]attribute.Value, 0, min(len(vs), maxValueItems))
		for _, e := range vs[:min(len(vs), maxValueItems)] {
			out = append(out, valueFromOTLP(e, depth+1))
		}
		return attribute.SliceValue(out...)
	case *commonpb.AnyValue_KvlistValue:
		if depth >= maxValueDepth {
			return attribute.StringValue("{…}")
		}
		kvs := x.KvlistValue.GetValues()
		out := make([]attribute.KeyValue, 0, min(len(kvs), maxValueItems))
		for _, kv := range kvs[:min(len(kvs), maxValueItems)] {
			out = append(out, attribute.KeyValue{
				Key:   attribute.Key(truncate(kv.GetKey(), maxNameLen)),
				Value: valueFromOTLP(kv.GetValue(), depth+1),
			})
		}
		return attribute.MapValue(out...)
	}
	return attribute.Value{} // unset, or a dictionary index this store has no dictionary for
}
