// Package recruitment is the client of the recruitment business line's SOAP
// WebService: the port generated from idl/wsdl/recruitment.wsdl over a
// partner.Client, which brings the endpoint, credentials, pooling,
// deadlines, retries, breaker, fault mapping and tracing.
//
// Call the port through partner.Do, with idempotent set as follows:
//
//   - RefreshJobPost: false (it spends one of the job post's daily refreshes)
//   - PromoteJobPost: false (paid)
//   - ListApplicants: true
//
// # Concurrency
//
// A Client is safe for concurrent use and starts no goroutine; Close closes
// its idle connections.
//
// # Imports
//
// recruitment imports only partner and the generated gen/soap/recruitment; it must not
// import marketing, core-im, cmd or soap-clients/sim (its tests use the
// simulator).
package recruitment
