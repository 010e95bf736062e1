// Package admin is the staff API (Hertz, its own port, 127.0.0.1:8701 by default): campaign
// management over a campaign.Store (staff keys, the audit log, merchants and their
// import, audiences, campaigns, previews and test-sends, under /admin/v1), /healthz, /readyz,
// /metrics (Prometheus), the embedded trace store's query API (/admin/v1/traces,
// /admin/v1/traces/{id}) and its HTML pages for a browser (/admin/traces,
// /admin/traces/{id}), plus OTLP/HTTP ingest (/v1/traces) so other processes can export
// their spans to this one. docs/api/admin.yaml documents every route.
//
// Authentication: every /admin and /v1 route needs a staff key (Authorization: Bearer
// <key>), except the login routes; /healthz, /readyz and /metrics are open, as scrapers and probes
// expect on an internal port. A key is a bootstrap key (Config.Keys, compared in constant
// time; role admin, campaign.BootstrapActor) or a key stored in the campaign store, looked
// up by its SHA-256 (campaign.Store.KeyBySecret) and trusted for KeyCacheTTL, so a key
// revoked on another node stops working here within it; revoking through this server
// forgets it at once. A browser cannot send that header when it follows a link, so POST
// /admin/login exchanges the key for a session cookie: an opaque random token (never the
// key), HttpOnly, SameSite=Strict, Path=/admin, Secure when the request came over HTTPS
// (Config.TLS, the server's own, or a proxy's X-Forwarded-Proto), kept in memory with the key's actor and an
// expiry (Config.SessionTTL) in a table of at most MaxSessions, which closes the oldest
// session when full. The pages and the JSON API accept the key or the cookie (pages send
// anyone else to /admin/login); ingest accepts an admin key only. Sessions do not survive
// a restart. A change made with the cookie (any method but GET) must also carry the
// session's CSRF token (CSRFHeader, or the form field CSRFField), which whoami and every
// console page give; a bearer key needs none.
//
// The staff console (console.go, console_people.go, console/) is server-rendered pages
// under /admin/console/: campaigns (list, create/edit form with a live audience count and
// a preview, a campaign page with a live progress chart, role-aware start/pause/resume/
// cancel with a confirmation for start and cancel, test-send and the audit trail),
// merchants (search, filters, the import with its per-row report), the audit log, and
// staff keys for admins. The pages read through the store; every change is the script
// calling the same JSON routes as any integration, with the CSRF token. Its one script
// and style sheet are embedded and served under /admin/static/; the pages' CSP allows
// nothing else.
//
// Authorisation: each route needs one campaign.Permission of the actor's role (reads
// PermRead, drafts and merchants PermAuthor, launching PermSend, keys PermManage) and
// answers 403 naming the role otherwise. Every change goes through a campaign.Store
// method that writes its audit entry, with the actor and the request's trace id.
//
// Bodies are read as streams (server.WithStreamBody), the only way Hertz lets the merchant
// import take up to MaxImportBody without holding it in memory; every other route's body
// is read into memory up to MaxJSONBody first (bufferBody), and JSON is decoded strictly
// (unknown fields refused).
//
// Concurrency: a Server is safe for concurrent requests; Start and Shutdown are called
// once. It starts no goroutine but Hertz's; expired sessions and cached keys are dropped
// when met. It imports tracing, marketing/campaign, gen/logic (the logic service's IDL)
// and Hertz; never the IM core's packages.
package admin
