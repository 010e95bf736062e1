// Package partner is the call policy every third-party SOAP WebService gets:
// a pooled keep-alive HTTP client, deadlines, retries of reads within a
// budget, a circuit breaker, a response size limit, SOAP faults turned into
// typed errors, and one client span per HTTP attempt. The line packages
// (soap-clients/housing, recruitment, account) are a few lines over it; the
// edge calls a generated port through Do.
//
// # What it owns
//
// A Client owns, for one third party: the *http.Client and its connection
// pool (gowsdl v0.5.0 asks for Connection: close on every request; the
// transport here ignores that, so connections are reused), the circuit
// breaker, the retry budget, and the *soap.Client the generated ports are
// built on. Do owns one operation's attempts: it puts a per-attempt record in
// the context; the transport under the generated client fills it with the
// HTTP status and, for anything but a plain answer, the SOAP fault or the
// reason the answer is unusable. The body is read in full, up to
// MaxResponseBytes, before the generated client decodes it, so a fault is
// parsed the same way whether it came with HTTP 200 or 500, and a body that
// never ends costs at most MaxResponseBytes or the deadline.
//
// # Errors
//
// Every failure of Do is a *Fault (the third party answered with a
// soap:Fault, or refused the credentials) or wraps one of ErrUnavailable,
// ErrTimeout, ErrBadResponse, ErrTransport. Declared faults (not found, not
// owner, insufficient credits, quota exceeded, invalid request) are the
// merchant's business and are never retried; they count as successes for the
// breaker, since the third party is healthy. Server faults, timeouts,
// transport failures and bad responses are retried for idempotent calls
// only, and count as breaker failures. A caller that cancels is neither.
//
// # Metrics
//
// With Config.Metrics (NewMetrics on the process's Prometheus registry) a
// Client counts each call of Do once, by partner, operation and outcome, with
// its whole duration; each HTTP attempt, so retries show; and reports its
// breaker's state when scraped. Clients of several third parties share one
// Metrics. Labels come from code (the line and the WSDL operation), never
// from a request.
//
// # Concurrency
//
// A Client is safe for concurrent use and starts no goroutine: the HTTP
// transport's connection goroutines end when the connections close, and
// Close closes the idle ones. Do runs on the caller's goroutine and returns
// within the smaller of the caller's deadline and Config.Timeout.
//
// # Imports
//
// partner must not import gen (the line packages bring the generated ports),
// marketing, core-im, cmd or soap-clients/sim; only its tests use the
// simulator and the generated clients.
package partner
