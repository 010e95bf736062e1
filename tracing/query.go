package tracing

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// Query selects traces; zero fields match everything.
type Query struct {
	// Service matches traces with a span from this service (service.name).
	Service string
	// Operation matches traces with a span of this name (from Service, if set).
	Operation string
	// MinDuration matches traces lasting at least this long, first start to last end.
	MinDuration time.Duration
	// ErrorOnly matches traces with a span whose status is Error.
	ErrorOnly bool
	// User matches traces with a span whose bangbang.user or enduser.id is this user.
	User string
	// Attrs matches traces having each of these attributes, on a span or on the
	// resource of a span (service.version, host.name…); they may be on different spans.
	// At most MaxAttrFilters.
	Attrs []AttrFilter
	// Start and End match traces overlapping [Start, End], from first span start to
	// last span end; a zero time leaves that side open.
	Start, End time.Time
	// Limit caps the result: 0 means DefaultLimit, and it never exceeds MaxLimit.
	Limit int
}

// AttrFilter matches an attribute whose value's text form is Value: a string as it is,
// a number in decimal (42, 0.5), a boolean as true or false, an array as JSON.
type AttrFilter struct {
	Key, Value string
}

// ParseAttrFilter reads "key:value", split at the first colon (values may hold colons,
// keys do not). The key must not be empty; the value may be.
func ParseAttrFilter(s string) (AttrFilter, error) {
	k, v, ok := strings.Cut(s, ":")
	if !ok || k == "" {
		return AttrFilter{}, fmt.Errorf("attr %q is not key:value", s)
	}
	return AttrFilter{Key: k, Value: v}, nil
}

// Result sizes of List, and the attribute filters one query takes.
const (
	DefaultLimit   = 20
	MaxLimit       = 1000
	MaxAttrFilters = 16
)

// TraceSummary is one line of a trace list.
type TraceSummary struct {
	TraceID     string        `json:"trace_id"`
	RootService string        `json:"root_service"`
	RootName    string        `json:"root_name"`
	Services    []string      `json:"services"`
	Start       time.Time     `json:"start"`
	Duration    time.Duration `json:"duration_ns"`
	SpanCount   int           `json:"span_count"`
	ErrorCount  int           `json:"error_count"`
	Error       bool          `json:"error"`
	// Partial is true when the root span is missing (not arrived, or never sampled) or
	// spans were dropped by the per-trace bound.
	Partial      bool `json:"partial"`
	DroppedSpans int  `json:"dropped_spans,omitempty"`
}

// List returns the traces matching q, the most recently started first.
func (s *Store) List(q Query) []TraceSummary {
	limit := q.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	limit = min(limit, MaxLimit)
	s.mu.Lock()
	var matched []*entry
	for el := s.order.Back(); el != nil; el = el.Prev() {
		if e := el.Value.(*entry); q.matches(e) {
			matched = append(matched, e)
		}
	}
	slices.SortStableFunc(matched, func(a, b *entry) int { return b.start.Compare(a.start) })
	matched = matched[:min(len(matched), limit)]
	out := make([]TraceSummary, len(matched))
	for i, e := range matched {
		out[i] = e.summary()
	}
	s.mu.Unlock()
	return out
}

// matches reports whether e meets every condition of q. Callers hold the store's lock.
func (q Query) matches(e *entry) bool {
	if q.ErrorOnly && e.errors == 0 {
		return false
	}
	if q.MinDuration > 0 && e.end.Sub(e.start) < q.MinDuration {
		return false
	}
	if !e.overlaps(q.Start, q.End) {
		return false
	}
	// The conditions on spans: each may be met by a different span.
	span, user := q.Service == "" && q.Operation == "", q.User == ""
	attrs, found := make([]bool, len(q.Attrs)), 0 // attrs[i]: q.Attrs[i] found
	met := func() bool { return span && user && found == len(q.Attrs) }
	if met() {
		return true
	}
	for _, r := range e.spans {
		if !span && (q.Service == "" || r.service == q.Service) && (q.Operation == "" || r.name == q.Operation) {
			span = true
		}
		if !user && r.user() == q.User {
			user = true
		}
		for i, f := range q.Attrs {
			if !attrs[i] && r.hasAttr(f) {
				attrs[i] = true
				found++
			}
		}
		if met() {
			return true
		}
	}
	return false
}

// overlaps reports whether e, first span start to last span end, overlaps [start, end];
// a zero time leaves that side open.
func (e *entry) overlaps(start, end time.Time) bool {
	return (start.IsZero() || !e.end.Before(start)) && (end.IsZero() || !e.start.After(end))
}

// summary describes e. Callers hold the store's lock.
func (e *entry) summary() TraceSummary {
	root := e.root()
	services := make([]string, 0, 4)
	for _, r := range e.spans {
		if !slices.Contains(services, r.service) {
			services = append(services, r.service)
		}
	}
	slices.Sort(services)
	return TraceSummary{
		TraceID:      e.id.String(),
		RootService:  root.service,
		RootName:     root.name,
		Services:     services,
		Start:        e.start,
		Duration:     e.end.Sub(e.start),
		SpanCount:    len(e.spans),
		ErrorCount:   e.errors,
		Error:        e.errors > 0,
		Partial:      root.parentID.IsValid() || e.dropped > 0,
		DroppedSpans: e.dropped,
	}
}

// root is the earliest span without a parent or, when there is none, the earliest span
// whose parent the store does not hold.
func (e *entry) root() *record {
	var root, orphan *record
	ids := make(map[trace.SpanID]struct{}, len(e.spans))
	for _, r := range e.spans {
		ids[r.spanID] = struct{}{}
	}
	for _, r := range e.spans {
		if !r.parentID.IsValid() {
			if root == nil || r.start.Before(root.start) {
				root = r
			}
			continue
		}
		if _, ok := ids[r.parentID]; !ok && (orphan == nil || r.start.Before(orphan.start)) {
			orphan = r
		}
	}
	switch {
	case root != nil:
		return root
	case orphan != nil:
		return orphan
	}
	return e.spans[0] // a cycle of parents: only ingested garbage gets here
}

// statusName is the JSON form of a span status.
func statusName(c codes.Code) string { return strings.ToLower(c.String()) }
