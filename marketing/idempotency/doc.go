// Package idempotency owns the Idempotency-Key records of the merchant
// edge's paid actions (promote, buy credits): a request replayed with the
// same key gets the first request's response and never reaches the third
// party a second time, whichever edge process receives it.
//
// # Protocol
//
// For a request carrying a key, the edge calls Begin with a scope (the
// merchant), the key, a Fingerprint of the request and a lease:
//
//   - a new key is claimed (Begin returns ok): the edge calls the third
//     party, then Complete with the response to keep, or Abort;
//   - a completed key returns its Record: the edge replays it as is;
//   - a key claimed by a request still running gives ErrInFlight (the edge
//     answers 409, the app retries later);
//   - a key used with a different request (another body, route or
//     merchant) gives ErrMismatch (422): a key names one request only.
//
// Only definitive outcomes are stored: 2xx responses and 4xx business
// faults (not found, not owned, insufficient credits, quota exceeded).
// Complete refuses 5xx: after a timeout or a server fault the edge cannot
// know whether the third party acted, so it calls Abort and the client's
// retry may call again. That retry cannot charge twice because the paid
// SOAP operations carry the idempotency key as their requestId and the third
// party de-duplicates on it. A store error (Redis unreachable) must stop the
// paid call: without the record a replay could not be recognised.
//
// # Leases
//
// A claim expires after its lease so a claim left by a crashed edge process
// does not block its key forever. The lease must exceed the edge's whole
// deadline for the call, so a claim never expires while its request still
// runs; if one does (the process stalled), the next request with the key
// claims it and calls the third party again with the same requestId, which
// the third party de-duplicates. Complete and Abort act on the key, not on
// one claim: Complete stores the record if the key is claimed with the same
// fingerprint or no longer claimed at all, and otherwise leaves the stored
// state alone and returns ErrNotClaimed (the first definitive result wins);
// Abort releases any claim on the key and never deletes a completed record.
//
// # Implementations
//
// NewRedis keeps records in Redis hashes "bb:idem:{scope}:key" (the scope in
// braces is a Redis Cluster hash tag) and makes every check-and-set one Lua
// script, so two edge processes see one state. NewMemory keeps them in
// process for a single node: bounded by Options.MaxKeys, expiring lazily
// (no goroutine), evicting the completed record nearest its expiry when
// full and never an unfinished claim (ErrFull when only claims remain).
//
// Concurrency: every Store is safe for concurrent use and starts no
// goroutine. NewRedis does not close the Redis client it is given.
//
// This package must not import the edge, the SOAP clients or any core-im
// package: it stores bytes and knows nothing of HTTP servers.
package idempotency
