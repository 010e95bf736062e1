// Package housing is the client of the housing business line's SOAP
// WebService: the port generated from idl/wsdl/housing.wsdl over a
// partner.Client, which brings the endpoint, credentials, pooling,
// deadlines, retries, breaker, fault mapping and tracing.
//
// Call the port through partner.Do, with idempotent set as follows:
//
//   - RefreshListing: false (it spends one of the listing's daily refreshes)
//   - PromoteListing: false (paid)
//   - GetListingStats, ListLeads: true
//
// # Concurrency
//
// A Client is safe for concurrent use and starts no goroutine; Close closes
// its idle connections.
//
// # Imports
//
// housing imports only partner and the generated gen/soap/housing; it must not
// import marketing, core-im, cmd or soap-clients/sim (its tests use the
// simulator).
package housing
