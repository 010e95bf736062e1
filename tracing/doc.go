// Package tracing is bangbang's OpenTelemetry setup: one set of tracer providers per
// process, the OTLP exporter, W3C propagation (HTTP headers and the binary trace context
// of IM frames), the trace-aware slog handler, and the embedded trace store with its
// read and ingest APIs.
//
// # Setup
//
// Setup builds everything once per process; main calls Shutdown before it exits so that
// batched spans are flushed. Provider(component) hands out one sdktrace.TracerProvider per
// component name (resource service.name=component, service.namespace=bangbang, a
// service.instance.id shared by the process, process and host attributes); every provider
// shares the same sampler and span processors, so "bangbang all" is one trace pipeline
// whose spans still name the component that made them. Nothing here touches the otel
// globals: callers pass Provider(...) and Propagator() explicitly.
//
// # Exporters
//
//   - The embedded Store always receives every sampled span, synchronously on span end,
//     unless Config.StoreBytes is negative.
//   - An OTLP exporter (batched) is added only when OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or
//     OTEL_EXPORTER_OTLP_ENDPOINT is set. The protocol comes from
//     OTEL_EXPORTER_OTLP_TRACES_PROTOCOL, else OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" or
//     "http/protobuf" (the default, as the specification says). Endpoint, headers,
//     timeout and compression are read through Config.Env; the exporter reads the
//     remaining OTEL_EXPORTER_OTLP_* variables (certificates, insecure) and the batch
//     processor its OTEL_BSP_* timings from the process environment; its queue and batch
//     sizes are read through Config.Env, so that a span the full queue has no room for
//     is counted as dropped (bangbang_tracing_exported_spans_total{result="dropped"}).
//   - OTEL_SDK_DISABLED=true turns tracing off, as the specification says: every provider
//     is a no-op. The embedded store stays, for what other processes export to it.
//   - OTEL_RESOURCE_ATTRIBUTES adds resource attributes; OTEL_SERVICE_NAME is ignored,
//     since every component names itself.
//
// # Sampling
//
// The default sampler is parent-based: a span with a parent follows the parent's sampled
// flag. A root span is sampled unless it carries AttrTraffic=TrafficChat or TrafficRead,
// in which case it is sampled with probability Config.ChatSampleRatio or
// Config.ReadSampleRatio (default 0.1 each), decided on the trace id so every process
// agrees. The edge marks its GETs (a credit balance, stats, leads) TrafficRead
// (MarketingTraffic): keeping every one cost a fifth of its throughput (BENCHMARKS.md
// section 6). Paid and state-changing actions, admin calls and campaigns are always kept. A remote parent counts too, so a client's traceparent with the
// sampled flag off would decide for the server: a server facing apps that must keep
// every request starts its span with trace.WithNewRoot() and links the client's context.
//
// Errors in unsampled traces are not lost where they surface: the entry spans of an
// unsampled trace (its root, and in each process the first span under a remote parent:
// the gateway's request span, a Kitex server span) are still
// recorded (the RecordOnly decision), and one that ends with status Error is exported
// anyway, marked AttrKeptFor=KeptForError, with any recorded span enclosing it. The
// entry points mark server faults as errors (an IM request answered INTERNAL or
// UNAVAILABLE, an HTTP 5xx), so every such failure leaves a trace, whatever the ratio.
// Spans below an entry span of an unsampled trace are not recorded: recording them all
// doubled tracing's cost (BENCHMARKS.md section 6), and the failure's detail is in the
// log line that carries the trace id. A span counts as an error through its status
// (span.SetStatus(codes.Error, …)), not through RecordError alone.
//
// A read (TrafficRead) is the exception: its unsampled root is dropped, not recorded, and
// HertzServer, which starts it, makes it again when the answer is a 5xx: a late span with
// the ids the answer's traceresponse already named and the request's start time, which
// the sampler then records (and the pipeline keeps for its error). Recording every
// healthy read to find the few that fail was most of what tracing still cost the edge's
// reads (BENCHMARKS.md 6.9). The ids come from this package's generator (the runtime's
// per-thread random source), which also serves a late span its ids.
//
// On a 2-core development machine (go test -bench . ./tracing), per span started and
// ended: about 3.0 µs unsampled but recorded (BenchmarkSpanChatUnsampled), 1.2 µs as a
// no-op (BenchmarkSpanChatDropped), 6.4 µs sampled into a full embedded store
// (BenchmarkSpanSampled, mostly garbage collection of the 64 MiB it holds).
// Config.DropUnsampled drops the entry spans too, giving up the kept errors.
//
// OTEL_TRACES_SAMPLER (always_on, always_off, traceidratio, parentbased_always_on,
// parentbased_always_off, parentbased_traceidratio) with OTEL_TRACES_SAMPLER_ARG replaces
// the default sampler entirely; an unknown value fails Setup.
//
// # Embedded store
//
// Store keeps finished spans grouped by trace within an approximate byte bound (default
// 64 MiB). When over it, whole traces are evicted, least recently updated first; one
// trace may hold at most a quarter of the bound, further spans of it are dropped and
// counted. A span's resource (service.version, host.name…) is kept once for all the
// spans sharing it. Handler serves GET /admin/v1/traces (filters include attributes of
// spans or their resources, and a time range), GET /admin/v1/traces/map (the
// ServiceMap: calls between services, with error rates) and GET
// /admin/v1/traces/{id} as JSON; IngestHandler accepts OTLP/HTTP protobuf
// (POST /v1/traces) from other processes. Neither authenticates: the admin server that
// mounts them does. Store.Collector exports the store's size, evictions, drops and
// ingest counts; Tracing.Collector includes it.
//
// # Instrumentation helpers
//
// HertzServer (edge, admin) and KitexClient/KitexServer (gateway ⇄ logic, both ways)
// are middlewares taking a provider explicitly, because the contrib suites of both
// frameworks only read the global one. The Kitex pair carries the W3C context in the
// call's metainfo (TTHeader string values), one hop. FrameTrace and
// ContextWithFrameTrace move it in and out of IM frames.
//
// Spans are started at entry points only: an HTTP request, an IM request frame, a
// campaign batch. Everything below (the Kitex client, the store, pgx, Redis, the push to a
// gateway) goes through ChildOnly, so it joins a trace when there is one and opens none
// otherwise: a route renewal every heartbeat or a group-commit transaction shared by a
// hundred senders is not a trace of its own. A campaign run is meant to be one root span
// with a child span per batch; each batch's PushToUsers then traces like a send.
//
// Register and LatencyBuckets are shared by every component's Prometheus metrics.
//
// # Pages
//
// PageHandler draws the store's traces as HTML (a list, the service map, and a
// waterfall per trace),
// server-side, for the admin server to mount behind its login.
//
// # Concurrency
//
// Tracing, Store and the handlers are safe for concurrent use. The only goroutines are
// those of the OTLP batch processor and exporter, owned by Tracing and stopped by
// Shutdown, which is idempotent. The store's read API keeps working after Shutdown.
//
// # Imports
//
// It imports the OpenTelemetry SDK, the OTLP exporters and protobuf types,
// core-im/protocol (for the frame trace context), Hertz and Kitex (for their middlewares),
// the Prometheus client and the standard library; never a component (gateway, logic,
// store, marketing…).
package tracing
