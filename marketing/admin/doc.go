// Package admin is the staff API (Hertz, its own port, :8701 by default). For now it serves
// what SREs need: /healthz, /metrics (Prometheus), the embedded trace store's query API
// (/admin/v1/traces, /admin/v1/traces/{id}) and its HTML pages for a browser
// (/admin/traces, /admin/traces/{id}: the trace list and each trace's waterfall), plus
// OTLP/HTTP ingest (/v1/traces) so other processes can export their spans to this one.
// Campaign management joins it later. docs/api/admin.yaml documents every route.
//
// Every /admin and /v1 route needs a staff key (Authorization: Bearer <key>), except the
// login routes; /healthz and /metrics are open, as scrapers and probes expect on an
// internal port. Keys are compared in constant time. A browser cannot send that header
// when it follows a link, so POST /admin/login exchanges the key for a session cookie:
// an opaque random token (never the key), HttpOnly, SameSite=Strict, Path=/admin, kept
// in memory with an expiry (Config.SessionTTL) in a table of at most MaxSessions, which
// closes the oldest session when full. The pages and the JSON trace API accept the key or
// the cookie (pages send anyone else to /admin/login); ingest accepts the key only.
// Sessions do not survive a restart. Roles arrive with the campaign work: today every
// key is an admin key.
//
// Concurrency: a Server is safe for concurrent requests; Start and Shutdown are called once.
// It starts no goroutine but Hertz's; expired sessions are dropped when met. It imports
// tracing and Hertz; never the IM core's packages.
package admin
