package tracing

import (
	"cmp"
	"slices"
	"time"

	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// ServiceMap is who calls whom, read from the spans the store holds.
type ServiceMap struct {
	// Edges are sorted by caller, then callee.
	Edges []ServiceEdge `json:"edges"`
	// Traces is how many traces were read: those overlapping the time range.
	Traces int `json:"traces"`
}

// ServiceEdge is the calls from one service to another: a span of Callee whose parent
// span is Caller's. Components of one process ("bangbang all") are services of their
// own, so their calls to each other are edges too; a span whose parent the store does
// not hold is no call of anyone's.
type ServiceEdge struct {
	Caller string `json:"caller"`
	Callee string `json:"callee"`
	Calls  int    `json:"calls"`
	// Errors are the calls whose callee span has status Error.
	Errors int `json:"errors"`
	// ErrorRate is Errors / Calls.
	ErrorRate float64 `json:"error_rate"`
}

// ServiceMap counts the calls between services in the traces overlapping [start, end];
// a zero time leaves that side open.
func (s *Store) ServiceMap(start, end time.Time) ServiceMap {
	s.mu.Lock()
	var traces [][]*record
	for _, e := range s.traces {
		if e.overlaps(start, end) {
			// Stored records never change and a trace's slice only grows, so its
			// header is a snapshot the counting can read outside the lock.
			traces = append(traces, e.spans)
		}
	}
	s.mu.Unlock()

	type pair struct{ caller, callee string }
	edges := make(map[pair]*ServiceEdge)
	byID := make(map[trace.SpanID]*record)
	for _, spans := range traces {
		clear(byID)
		for _, r := range spans {
			if _, dup := byID[r.spanID]; !dup {
				byID[r.spanID] = r // a retried export: the first copy stands
			}
		}
		for _, r := range spans {
			p, ok := byID[r.parentID]
			if !ok || byID[r.spanID] != r || p.service == r.service {
				continue
			}
			k := pair{p.service, r.service}
			e := edges[k]
			if e == nil {
				e = &ServiceEdge{Caller: k.caller, Callee: k.callee}
				edges[k] = e
			}
			e.Calls++
			if r.status == codes.Error {
				e.Errors++
			}
		}
	}
	m := ServiceMap{Edges: make([]ServiceEdge, 0, len(edges)), Traces: len(traces)}
	for _, e := range edges {
		e.ErrorRate = float64(e.Errors) / float64(e.Calls)
		m.Edges = append(m.Edges, *e)
	}
	slices.SortFunc(m.Edges, func(a, b ServiceEdge) int {
		return cmp.Or(cmp.Compare(a.Caller, b.Caller), cmp.Compare(a.Callee, b.Callee))
	})
	return m
}
