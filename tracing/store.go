package tracing

import (
	"container/list"
	"context"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// Store is the embedded trace store: finished spans grouped by trace, within an
// approximate memory bound. It is a span processor (synchronous: a span is readable as
// soon as it ends) and a span exporter (for use under a batcher), and it ingests OTLP
// from other processes. It is safe for concurrent use.
type Store struct {
	maxBytes      int64
	maxTraceBytes int64

	mu        sync.Mutex
	traces    map[trace.TraceID]*entry
	order     *list.List // of *entry, least recently updated first
	resources map[attribute.Distinct][]*spanResource
	bytes     int64 // spans and the resources they hold
	spans     int
	evicted   int64 // traces
	dropped   int64 // spans refused by the per-trace bound
	// OTLP ingest: spans with valid ids, offered to the store; spans refused for their ids.
	ingestAccepted, ingestRejected int64
	// OTLP ingest requests refused whole (nothing in them read), by IngestRefused's fields.
	refusedPayload, refusedTooLarge, refusedMedia int64
}

// The store plugs into the SDK either way.
var (
	_ sdktrace.SpanProcessor = (*Store)(nil)
	_ sdktrace.SpanExporter  = (*Store)(nil)
)

// entry is one trace held by the store.
type entry struct {
	id         trace.TraceID
	spans      []*record
	bytes      int64
	start, end time.Time
	errors     int
	dropped    int
	elem       *list.Element
}

// NewStore returns a store holding about maxBytes of spans; maxBytes <= 0 means
// DefaultStoreBytes. One trace holds at most a quarter of the bound.
func NewStore(maxBytes int64) *Store {
	if maxBytes <= 0 {
		maxBytes = DefaultStoreBytes
	}
	return &Store{
		maxBytes:      maxBytes,
		maxTraceBytes: max(maxBytes/4, 1),
		traces:        make(map[trace.TraceID]*entry),
		order:         list.New(),
		resources:     make(map[attribute.Distinct][]*spanResource),
	}
}

// StoreStats describes what the store holds, and what it did since it was made.
type StoreStats struct {
	Traces   int   `json:"traces"`
	Spans    int   `json:"spans"`
	Bytes    int64 `json:"bytes"`
	MaxBytes int64 `json:"max_bytes"`
	// EvictedTraces were removed whole to stay within MaxBytes.
	EvictedTraces int64 `json:"evicted_traces"`
	// DroppedSpans were refused by the per-trace bound.
	DroppedSpans int64 `json:"dropped_spans"`
	// IngestAccepted spans arrived through OTLP ingest with valid ids (the per-trace
	// bound may have dropped some); IngestRejected arrived without.
	IngestAccepted int64 `json:"ingest_accepted"`
	IngestRejected int64 `json:"ingest_rejected"`
	// IngestRefused counts the OTLP requests refused whole, their spans unread.
	IngestRefused IngestRefused `json:"ingest_refused"`
}

// IngestRefused counts refused OTLP ingest requests by reason.
type IngestRefused struct {
	BadPayload       int64 `json:"bad_payload"`       // a body that does not decode (400)
	TooLarge         int64 `json:"too_large"`         // over MaxIngestBody (413)
	UnsupportedMedia int64 `json:"unsupported_media"` // not OTLP protobuf (415)
}

// Stats reports the store's current size and its counts so far, all read at one instant.
func (s *Store) Stats() StoreStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return StoreStats{
		Traces: len(s.traces), Spans: s.spans, Bytes: s.bytes, MaxBytes: s.maxBytes,
		EvictedTraces: s.evicted, DroppedSpans: s.dropped,
		IngestAccepted: s.ingestAccepted, IngestRejected: s.ingestRejected,
		IngestRefused: IngestRefused{BadPayload: s.refusedPayload, TooLarge: s.refusedTooLarge, UnsupportedMedia: s.refusedMedia},
	}
}

// OnStart does nothing: the store keeps finished spans only.
func (s *Store) OnStart(context.Context, sdktrace.ReadWriteSpan) {}

// OnEnd keeps a sampled span.
func (s *Store) OnEnd(sp sdktrace.ReadOnlySpan) {
	if !sp.SpanContext().IsSampled() {
		return
	}
	r := recordOf(sp)
	s.mu.Lock()
	s.add(r)
	s.mu.Unlock()
}

// ExportSpans keeps spans handed over by a batcher.
func (s *Store) ExportSpans(_ context.Context, spans []sdktrace.ReadOnlySpan) error {
	recs := make([]*record, len(spans))
	for i, sp := range spans {
		recs[i] = recordOf(sp)
	}
	s.addAll(recs)
	return nil
}

// Shutdown does nothing: the store stays readable after the providers stop.
func (s *Store) Shutdown(context.Context) error { return nil }

// ForceFlush does nothing: spans are stored as they end.
func (s *Store) ForceFlush(context.Context) error { return nil }

func (s *Store) addAll(recs []*record) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range recs {
		s.add(r)
	}
}

// add stores r, then evicts least recently updated traces until within the bound. The
// trace r joins is the most recent, and no trace exceeds a quarter of the bound, so it is
// never the one evicted unless the resources held outgrow the rest of the bound. Callers
// hold s.mu.
func (s *Store) add(r *record) {
	e, ok := s.traces[r.traceID]
	if !ok {
		e = &entry{id: r.traceID, start: r.start, end: r.end}
		e.elem = s.order.PushBack(e)
		s.traces[r.traceID] = e
	} else {
		s.order.MoveToBack(e.elem)
	}
	if e.bytes+r.size > s.maxTraceBytes {
		e.dropped++
		s.dropped++
		if len(e.spans) == 0 {
			s.remove(e)
		}
		return
	}
	s.holdResource(r)
	e.spans = append(e.spans, r)
	e.bytes += r.size
	if r.start.Before(e.start) {
		e.start = r.start
	}
	if r.end.After(e.end) {
		e.end = r.end
	}
	if r.status == codes.Error {
		e.errors++
	}
	s.bytes += r.size
	s.spans++
	for s.bytes > s.maxBytes && s.order.Len() > 0 {
		oldest := s.order.Front().Value.(*entry)
		s.remove(oldest)
		s.evicted++
	}
}

func (s *Store) remove(e *entry) {
	s.order.Remove(e.elem)
	delete(s.traces, e.id)
	s.bytes -= e.bytes
	s.spans -= len(e.spans)
	for _, r := range e.spans {
		s.releaseResource(r)
	}
}
