// Package admin is the staff API (Hertz, its own port, :8701 by default). For now it serves
// what SREs need: /healthz, /metrics (Prometheus) and the embedded trace store's query API
// (/admin/v1/traces, /admin/v1/traces/{id}), plus OTLP/HTTP ingest (/v1/traces) so other
// processes can export their spans to this one. Campaign management joins it later.
//
// Every /admin and /v1 route needs a staff key (Authorization: Bearer <key>); /healthz and
// /metrics are open, as scrapers and probes expect on an internal port. Keys are compared
// in constant time. Roles arrive with the campaign work: today every key is an admin key.
//
// Concurrency: a Server is safe for concurrent requests; Start and Shutdown are called once.
// It imports tracing and Hertz; never the IM core's packages.
package admin
