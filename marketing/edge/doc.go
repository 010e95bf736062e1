// Package edge is the merchant-facing HTTP API (Hertz). It issues the signed token that
// authenticates both the IM connection and every edge call (POST /v1/login), serves
// /healthz, and runs the merchants' marketing actions: credits and credit packages,
// refreshing and promoting listings and job posts, listing statistics, leads and
// applicants. docs/api/merchant.yaml documents every route; a test keeps it true.
//
// # Two hops
//
// A marketing action travels app → edge → the business line's SOAP service: each handler
// calls the generated client (gen/soap/…) through its soap-clients wrapper, which owns the
// endpoint, deadline, retries of reads, circuit breaker and fault parsing. There is no
// internal RPC on this path. Before the call a request is authenticated (a merchant token;
// the merchant acted for comes from the token only), validated (bounded bodies, strict
// JSON, ids, ranges) and charged to the merchant's rate limit for its action class.
//
// # Paid actions
//
// Promotions and credit purchases require an Idempotency-Key. The key is claimed in the
// idempotency store (Redis shared by every edge process, or in process) before the third
// party is called, so a replay, on any edge, gets the first answer and never a second
// charge. The key, scoped by merchant, is also sent as the SOAP requestId, on which the
// third party de-duplicates a retry after an outcome the edge could not know (a timeout,
// a 5xx): those outcomes release the key instead of storing it.
//
// # Errors
//
// Every error, 404 and 405 included, has one shape, {"code", "message", "request_id"}.
// SOAP faults map to the 4xx they mean (not_found, not_owner, insufficient_credits,
// quota_exceeded, invalid_request); a failing, slow or unreachable third party maps to
// 502, 504 or 503 with a message naming the service only: fault texts and transport
// errors go to the log with the request id, merchant, line and operation. The one
// exception is a body over Config.MaxBodyBytes, which Hertz refuses with a plain-text 413
// before any handler runs (it offers no hook for that answer); the marketing routes'
// own, smaller limit answers 413 in the API's shape.
//
// It reaches the IM core only through gen/logic.LogicService (Authenticate), never through
// the store or the gateway, and must not import soap-clients/sim or any core-im package
// but auth.
//
// Concurrency: a Server is safe for concurrent requests; Start and Shutdown are called once.
// Its only goroutine is Hertz's serving loop, stopped by Shutdown. It does not own the SOAP
// clients, limiter or idempotency store it is given: their creator closes them after
// Shutdown.
package edge
