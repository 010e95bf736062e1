package tracing

import "github.com/prometheus/client_golang/prometheus"

var (
	descIngested = prometheus.NewDesc("bangbang_tracing_ingested_spans_total",
		"Spans received through OTLP ingest, by result: accepted (valid ids; the per-trace bound may still drop them), or rejected (no valid trace or span id).",
		[]string{"result"}, nil)
	descRefused = prometheus.NewDesc("bangbang_tracing_ingest_refused_requests_total",
		"OTLP ingest requests refused whole, their spans unread, by reason: bad_payload (does not decode), too_large, unsupported_media (not OTLP protobuf).",
		[]string{"reason"}, nil)
	descStoreBytes = prometheus.NewDesc("bangbang_tracing_store_bytes",
		"Approximate memory the embedded trace store holds: spans and their resources.", nil, nil)
	descStoreMaxBytes = prometheus.NewDesc("bangbang_tracing_store_max_bytes",
		"The embedded trace store's bound; whole traces are evicted past it.", nil, nil)
	descStoreTraces = prometheus.NewDesc("bangbang_tracing_store_traces",
		"Traces the embedded trace store holds.", nil, nil)
	descStoreSpans = prometheus.NewDesc("bangbang_tracing_store_spans",
		"Spans the embedded trace store holds.", nil, nil)
	descEvicted = prometheus.NewDesc("bangbang_tracing_store_evicted_traces_total",
		"Traces evicted whole from the embedded trace store to stay within its bound, least recently updated first.", nil, nil)
	descDropped = prometheus.NewDesc("bangbang_tracing_store_dropped_spans_total",
		"Spans the embedded trace store refused because their trace already held a quarter of its bound.", nil, nil)
)

// storeCollector reads Store.Stats at each scrape, so every value comes from one
// instant and nothing is counted twice.
type storeCollector struct{ s *Store }

// Collector exports the store's size and counts:
//
//	bangbang_tracing_ingested_spans_total{result}    counter: accepted, rejected (OTLP ingest)
//	bangbang_tracing_ingest_refused_requests_total{reason}  counter: bad_payload, too_large, unsupported_media
//	bangbang_tracing_store_bytes                     gauge
//	bangbang_tracing_store_max_bytes                 gauge
//	bangbang_tracing_store_traces                    gauge
//	bangbang_tracing_store_spans                     gauge
//	bangbang_tracing_store_evicted_traces_total      counter
//	bangbang_tracing_store_dropped_spans_total       counter
//
// Tracing.Collector includes it; register it alone only for a store made with NewStore.
func (s *Store) Collector() prometheus.Collector { return storeCollector{s} }

func (c storeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descIngested, descRefused, descStoreBytes, descStoreMaxBytes, descStoreTraces,
		descStoreSpans, descEvicted, descDropped} {
		ch <- d
	}
}

func (c storeCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.s.Stats()
	counter := func(d *prometheus.Desc, v int64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge := func(d *prometheus.Desc, v int64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(v))
	}
	counter(descIngested, st.IngestAccepted, "accepted")
	counter(descIngested, st.IngestRejected, "rejected")
	counter(descRefused, st.IngestRefused.BadPayload, "bad_payload")
	counter(descRefused, st.IngestRefused.TooLarge, "too_large")
	counter(descRefused, st.IngestRefused.UnsupportedMedia, "unsupported_media")
	gauge(descStoreBytes, st.Bytes)
	gauge(descStoreMaxBytes, st.MaxBytes)
	gauge(descStoreTraces, int64(st.Traces))
	gauge(descStoreSpans, int64(st.Spans))
	counter(descEvicted, st.EvictedTraces)
	counter(descDropped, st.DroppedSpans)
}
