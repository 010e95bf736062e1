// Command edgeload measures what the marketing edge costs. It drives one read action
// (GetCreditBalance or GetListingStats) against an already running system in the same run
// three ways, each for the same duration at the same concurrency:
//
//   - edge: through the Hertz edge over keep-alive HTTP, as merchant apps call it
//     (token auth, rate limit, SOAP client, JSON);
//   - bare: with the generated gowsdl port (gen/soap/…) straight to the simulator, on a
//     pooled keep-alive http.Client: the least a caller of the third party can spend;
//   - edge-redis (optional): through a second edge whose rate limiter is on Redis, to
//     compare with the first edge's in-process limiter.
//
// For each it reports actions/s, latency percentiles and the CPU per action of every
// process it was told about (/proc/PID/stat), and of itself (getrusage); then the ratios
// the targets in BENCHMARKS.md are stated in. What "CPU per action" compares is spelt out
// in report.go, where the ratios are computed.
//
// Concurrency: runPhase starts every load goroutine of a phase and waits for all of them
// before returning; each goroutine owns its latency.Histogram and counters, merged after the wait,
// so recording needs no lock. Nothing outlives run.
//
// It imports gen/soap/… (the generated clients it measures bare), gowsdl's soap package and
// go-redis (to read Redis's command counters), never marketing/… or soap-clients/…: it
// must measure whatever edge answers the merchant API, through its public contract only.
package main
