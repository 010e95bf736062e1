// Package sim runs SOAP 1.1 servers that stand in for the platform's three
// third-party business lines: housing, recruitment and the merchant account.
// Each implements its WSDL from idl/wsdl (served at ?wsdl, byte for byte the
// copy that make gen embeds in gen/soap/wsdl), so the clients generated from
// those WSDLs, and clients of other ecosystems, can be exercised end to end
// without the real services: for the demo (bangbang sim, bangbang all) and in
// tests, including tests of how callers survive slow, failing and broken peers.
//
// # What it owns
//
// A Sim owns three HTTP servers and one in-memory world shared by them:
// merchants m1001…m1020, each with listings L<merchant>-01…05 (for example
// Lm1001-03) and job posts J<merchant>-01…03, a credit ledger seeded with
// 500 credits per merchant, refresh quotas (10 a day per listing or job post,
// days in UTC), running promotions and purchases. Leads, applicants and
// listing statistics are derived from the ids by hashing, so the same ids give
// the same data in every run. Paid operations (PromoteListing,
// PromoteJobPost, BuyCreditPackage) are idempotent per (merchantId,
// requestId): a repeat returns the first result and charges once; a requestId
// reused for different parameters is an InvalidRequestFault. Promotions cost
// 10 credits a day and extend a running one; a merchant may buy at most 5
// credit packages (CP100, CP500, CP1000, priced in CNY cents) a day. The sim
// remembers every paid requestId for its lifetime.
//
// # Endpoints
//
// Each line serves POST /soap/<line>/v1 (SOAP), GET /soap/<line>/v1?wsdl,
// and its control endpoints under /_sim/ on its own port: by default housing
// on :8600, recruitment on :8601 and account on :8602, the addresses the
// WSDLs publish.
//
// # Wire behaviour
//
// Requests are read as real SOAP stacks read them: any namespace prefixes, an
// optional Header, with or without an XML declaration; the body element picks
// the operation and a SOAPAction header, when present and not empty, must
// match it. A Header entry with mustUnderstand="1" gets a MustUnderstand fault
// (the sim understands no header), an envelope of another SOAP version a
// VersionMismatch fault, and a DTD is refused. Faults are soap:Fault with
// faultcode soap:Client (the caller's mistake: a declared fault in detail, or
// a malformed request), soap:Server (an injected failure), or the two above,
// sent with HTTP 500 as SOAP 1.1 requires. Declared faults carry their
// element (NotFoundFault, NotOwnerFault, InsufficientCreditsFault,
// QuotaExceededFault, InvalidRequestFault) in the line's namespace inside
// detail; faultstring is a short English sentence. Credentials are HTTP Basic (Config.PartnerID and
// PartnerKey); a request without them, or with wrong ones, is answered at the
// HTTP layer like a real front end does, 401 with WWW-Authenticate, and
// carries a soap:Client fault "authentication failed" for clients that read
// the body. The WSDL and the control endpoints are not authenticated.
//
// # Fault injection
//
// Faults (added latency with jitter, a rate of soap:Server faults, of HTTP
// 500 HTML pages, of malformed XML, of bodies that never end, faults sent with
// HTTP 200) are set per line with SetFaults or POST /_sim/faults on the
// line's port; GET /_sim/stats reports per-operation call counts (also
// Calls), so a test can prove that a caller made exactly one SOAP call.
//
// # Concurrency
//
// A Sim is safe for concurrent use. Start starts one serving goroutine per
// line; Shutdown cancels the requests still waiting on injected latency or
// streaming an endless body, then waits for every handler and serving
// goroutine to return. A streaming handler also stops as soon as its client
// goes away.
//
// # Imports
//
// sim is a test double for the outside world: it must not import marketing,
// core-im, cmd or the soap-clients wrappers, and nothing on a production path
// may import it except cmd/bangbang to run it. It reads the embedded WSDLs
// from gen/soap/wsdl and otherwise uses the standard library and
// OpenTelemetry (otelhttp); its tests also use the generated clients.
package sim
