package tracing

import (
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// Bounds applied to every span the store keeps, whatever its source, so one span cannot
// take a large part of the memory bound.
const (
	maxNameLen     = 1 << 10
	maxValueLen    = 4 << 10
	maxSpanAttrs   = 128
	maxSpanEvents  = 128
	unknownService = "unknown_service"
)

// record is a finished span as the store keeps it.
type record struct {
	traceID       trace.TraceID
	spanID        trace.SpanID
	parentID      trace.SpanID // zero for a root
	service       string
	name          string
	kind          trace.SpanKind
	start, end    time.Time
	status        codes.Code
	statusMessage string
	attrs         []attribute.KeyValue
	resource      *spanResource // nil when unknown; shared, and not in size
	events        []event
	size          int64 // approximate bytes held, see sizeOf
}

type event struct {
	name  string
	time  time.Time
	attrs []attribute.KeyValue
}

// recordOf converts an SDK span.
func recordOf(s sdktrace.ReadOnlySpan) *record {
	sc := s.SpanContext()
	r := &record{
		traceID:       sc.TraceID(),
		spanID:        sc.SpanID(),
		parentID:      s.Parent().SpanID(),
		service:       unknownService,
		name:          truncate(s.Name(), maxNameLen),
		kind:          s.SpanKind(),
		start:         s.StartTime().Round(0),
		end:           s.EndTime().Round(0),
		status:        s.Status().Code,
		statusMessage: truncate(s.Status().Description, maxValueLen),
		attrs:         boundAttrs(s.Attributes()),
	}
	if res := s.Resource(); res != nil {
		if v, ok := res.Set().Value(semconv.ServiceNameKey); ok && v.AsString() != "" {
			r.service = v.AsString()
		}
		r.resource = resourceOf(*res.Set())
	}
	evs := s.Events()
	if len(evs) > maxSpanEvents {
		evs = evs[:maxSpanEvents]
	}
	if len(evs) > 0 {
		r.events = make([]event, len(evs))
		for i, e := range evs {
			r.events[i] = event{name: truncate(e.Name, maxNameLen), time: e.Time.Round(0), attrs: boundAttrs(e.Attributes)}
		}
	}
	r.fix()
	return r
}

// fix normalises what a peer may send inconsistent, and computes the size.
func (r *record) fix() {
	if r.end.Before(r.start) {
		r.end = r.start
	}
	r.size = sizeOf(r)
}

func (r *record) duration() time.Duration { return r.end.Sub(r.start) }

// hasAttr reports whether the span, or its resource, has the attribute f.Key with a value
// whose text form is f.Value.
func (r *record) hasAttr(f AttrFilter) bool {
	k := attribute.Key(f.Key)
	for _, kv := range r.attrs {
		if kv.Key == k && kv.Value.Emit() == f.Value {
			return true
		}
	}
	v, ok := r.resource.value(k)
	return ok && v.Emit() == f.Value
}

// user is the user the span acts for, "" if none.
func (r *record) user() string {
	for _, kv := range r.attrs {
		if kv.Key == AttrUser || kv.Key == attrEndUser {
			return kv.Value.String()
		}
	}
	return ""
}

// boundAttrs keeps at most maxSpanAttrs attributes and truncates long strings, copying
// only when something changes.
func boundAttrs(attrs []attribute.KeyValue) []attribute.KeyValue {
	if len(attrs) > maxSpanAttrs {
		attrs = attrs[:maxSpanAttrs]
	}
	copied := false
	for i, kv := range attrs {
		if kv.Value.Type() == attribute.STRING && len(kv.Value.AsString()) > maxValueLen {
			if !copied {
				attrs = append([]attribute.KeyValue(nil), attrs...)
				copied = true
			}
			attrs[i] = kv.Key.String(truncate(kv.Value.AsString(), maxValueLen))
		}
	}
	return attrs
}

// truncate cuts s to n bytes, copying so that the long original can be freed.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.Clone(s[:n])
}

// Approximate per-item costs in bytes: struct headers, slice and map overheads. They need
// not be exact, only proportionate, so that the bound holds within a small factor.
const (
	recordOverhead = 240
	attrOverhead   = 64
	eventOverhead  = 64
)

func sizeOf(r *record) int64 {
	n := int64(recordOverhead + len(r.name) + len(r.statusMessage))
	n += attrsSize(r.attrs)
	for _, e := range r.events {
		n += eventOverhead + int64(len(e.name)) + attrsSize(e.attrs)
	}
	return n
}

func attrsSize(attrs []attribute.KeyValue) int64 {
	var n int64
	for _, kv := range attrs {
		n += attrOverhead + int64(len(kv.Key))
		switch kv.Value.Type() {
		case attribute.BOOL, attribute.INT64, attribute.FLOAT64, attribute.EMPTY:
		case attribute.STRING:
			n += int64(len(kv.Value.AsString()))
		default:
			// Slices and maps are rare: their text form is a fair measure.
			n += int64(len(kv.Value.String()))
		}
	}
	return n
}
