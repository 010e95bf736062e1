package tracing

import (
	"encoding/base64"
	"math"
	"slices"
	"strconv"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// Trace is one trace as a span tree, what a waterfall or a terminal tree is drawn from.
type Trace struct {
	TraceSummary
	// Spans are the top-level spans: the root, then orphans whose parent the store does
	// not hold, by start time.
	Spans []*Node `json:"spans"`
	// Resources are the resources the spans came from (service.version, host.name…),
	// each once, by the key a Node's Resource names ("r1", "r2"… in order of first use).
	Resources map[string]map[string]any `json:"resources,omitempty"`
}

// Node is one span in a Trace. Offsets are from the trace's start.
type Node struct {
	SpanID        string         `json:"span_id"`
	ParentID      string         `json:"parent_id,omitempty"`
	Service       string         `json:"service"`
	Name          string         `json:"name"`
	Kind          string         `json:"kind"`
	Start         time.Time      `json:"start"`
	Offset        time.Duration  `json:"offset_ns"`
	Duration      time.Duration  `json:"duration_ns"`
	Depth         int            `json:"depth"`
	Status        string         `json:"status"` // unset, ok or error
	StatusMessage string         `json:"status_message,omitempty"`
	Attributes    map[string]any `json:"attributes,omitempty"`
	Events        []Event        `json:"events,omitempty"`
	Children      []*Node        `json:"children,omitempty"`
	Resource      string         `json:"resource,omitempty"` // its key in Trace.Resources

	res *spanResource
}

// Event is a span event.
type Event struct {
	Name       string         `json:"name"`
	Offset     time.Duration  `json:"offset_ns"`
	Attributes map[string]any `json:"attributes,omitempty"`
}

// maxDepth bounds the nesting of a tree: descendants deeper than it are listed at the
// top level instead, so a hostile chain of parents cannot nest JSON without limit.
const maxDepth = 64

// Get returns the trace with id as a tree, and whether the store holds it.
func (s *Store) Get(id trace.TraceID) (*Trace, bool) {
	s.mu.Lock()
	e, ok := s.traces[id]
	if !ok {
		s.mu.Unlock()
		return nil, false
	}
	t := &Trace{TraceSummary: e.summary()}
	// Records never change once stored, so the tree is built outside the lock from a
	// copy of the slice.
	spans := slices.Clone(e.spans)
	s.mu.Unlock()
	t.Spans = buildTree(spans, t.Start)
	t.nameResources()
	return t, true
}

// nameResources lists the resources of t's spans in t.Resources, each once (the store
// shares one copy among the spans of a resource), and names each span's.
func (t *Trace) nameResources() {
	keys := map[*spanResource]string{}
	var walk func(ns []*Node)
	walk = func(ns []*Node) {
		for _, n := range ns {
			if n.res != nil && n.res.set.Len() > 0 {
				k, ok := keys[n.res]
				if !ok {
					k = "r" + strconv.Itoa(len(keys)+1)
					keys[n.res] = k
					if t.Resources == nil {
						t.Resources = map[string]map[string]any{}
					}
					t.Resources[k] = attrMap(n.res.set.ToSlice())
				}
				n.Resource = k
			}
			walk(n.Children)
		}
	}
	walk(t.Spans)
}

// buildTree arranges spans under their parents. A span whose parent is missing (not
// arrived, evicted, never sampled) is listed at the top level; so is one found in a cycle
// of parents, which only a hostile peer can send, and the descendants of spans at
// maxDepth.
func buildTree(spans []*record, start time.Time) []*Node {
	slices.SortStableFunc(spans, func(a, b *record) int { return a.start.Compare(b.start) })
	nodes := make(map[trace.SpanID]*Node, len(spans))
	parents := make(map[*Node]*Node, len(spans))
	ordered := make([]*Node, 0, len(spans))
	for _, r := range spans {
		if _, dup := nodes[r.spanID]; dup {
			continue // a retried export: the first copy stands
		}
		n := nodeOf(r, start)
		nodes[r.spanID] = n
		ordered = append(ordered, n)
	}
	var top []*Node
	for _, n := range ordered {
		id, _ := trace.SpanIDFromHex(n.ParentID)
		if p, ok := nodes[id]; ok && p != n {
			p.Children = append(p.Children, n)
			parents[n] = p
		} else {
			top = append(top, n)
		}
	}
	reached := make(map[*Node]bool, len(ordered))
	// walk sets depths below n and returns the children it cut at maxDepth.
	var walk func(n *Node, depth int) []*Node
	walk = func(n *Node, depth int) (cut []*Node) {
		reached[n] = true
		n.Depth = depth
		if depth == maxDepth {
			cut, n.Children = n.Children, nil
			return cut
		}
		for _, c := range n.Children {
			cut = append(cut, walk(c, depth+1)...)
		}
		return cut
	}
	// walkFrom walks the top-level nodes from index i, and the ones cut on the way.
	walkFrom := func(i int) {
		for ; i < len(top); i++ {
			top = append(top, walk(top[i], 0)...)
		}
	}
	walkFrom(0)
	for _, n := range ordered {
		if !reached[n] { // in a cycle: break it above n
			p := parents[n]
			p.Children = slices.DeleteFunc(p.Children, func(c *Node) bool { return c == n })
			top = append(top, n)
			walkFrom(len(top) - 1)
		}
	}
	slices.SortStableFunc(top, func(a, b *Node) int { return a.Start.Compare(b.Start) })
	return top
}

func nodeOf(r *record, start time.Time) *Node {
	n := &Node{
		SpanID:        r.spanID.String(),
		Service:       r.service,
		Name:          r.name,
		Kind:          r.kind.String(),
		Start:         r.start,
		Offset:        r.start.Sub(start),
		Duration:      r.duration(),
		Status:        statusName(r.status),
		StatusMessage: r.statusMessage,
		Attributes:    attrMap(r.attrs),
		res:           r.resource,
	}
	if r.parentID.IsValid() {
		n.ParentID = r.parentID.String()
	}
	for _, e := range r.events {
		n.Events = append(n.Events, Event{Name: e.name, Offset: e.time.Sub(start), Attributes: attrMap(e.attrs)})
	}
	return n
}

func attrMap(attrs []attribute.KeyValue) map[string]any {
	if len(attrs) == 0 {
		return nil
	}
	m := make(map[string]any, len(attrs))
	for _, kv := range attrs {
		m[string(kv.Key)] = jsonValue(kv.Value)
	}
	return m
}

// jsonValue is v as encoding/json renders it naturally: numbers, strings, arrays,
// objects; bytes in base64.
func jsonValue(v attribute.Value) any {
	switch v.Type() {
	case attribute.FLOAT64:
		return jsonFloat(v.AsFloat64())
	case attribute.FLOAT64SLICE:
		fs := v.AsFloat64Slice()
		out := make([]any, len(fs))
		for i, f := range fs {
			out[i] = jsonFloat(f)
		}
		return out
	case attribute.BYTESLICE:
		return base64.StdEncoding.EncodeToString(v.AsByteSlice())
	case attribute.SLICE:
		vs := v.AsSlice()
		out := make([]any, len(vs))
		for i, e := range vs {
			out[i] = jsonValue(e)
		}
		return out
	case attribute.MAP:
		kvs := v.AsMap()
		out := make(map[string]any, len(kvs))
		for _, kv := range kvs {
			out[string(kv.Key)] = jsonValue(kv.Value)
		}
		return out
	}
	return v.AsInterface()
}

// jsonFloat is f, or its text when JSON has no number for it (NaN, ±Inf).
func jsonFloat(f float64) any {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return attribute.Float64Value(f).String()
	}
	return f
}
