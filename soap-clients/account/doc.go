// Package account is the client of the merchant account business line's SOAP
// WebService: the port generated from idl/wsdl/account.wsdl over a
// partner.Client, which brings the endpoint, credentials, pooling,
// deadlines, retries, breaker, fault mapping and tracing.
//
// Call the port through partner.Do, with idempotent set as follows:
//
//   - BuyCreditPackage: false (paid)
//   - GetCreditBalance, ListCreditPackages: true
//
// # Concurrency
//
// A Client is safe for concurrent use and starts no goroutine; Close closes
// its idle connections.
//
// # Imports
//
// account imports only partner and the generated gen/soap/account; it must not
// import marketing, core-im, cmd or soap-clients/sim (its tests use the
// simulator).
package account
