// Package edge is the merchant-facing HTTP API (Hertz). It issues the signed token that
// authenticates both the IM connection and every edge call (POST /v1/login), and serves
// /healthz. The marketing actions (two hops to the third parties' SOAP services) are added
// to the same server by the marketing work.
//
// It reaches the IM core only through gen/logic.LogicService (Authenticate), never through
// the store or the gateway.
//
// Concurrency: a Server is safe for concurrent requests; Start and Shutdown are called once.
package edge
