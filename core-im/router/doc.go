// Package router owns the IM route table: for every online device of a user,
// which gateway node holds its connection and under which connection id.
// Logic reads it to fan a message out to every device of a recipient; gateways
// write it when a connection authenticates, renew it while the connection
// lives and remove it when the connection closes.
//
// Two implementations share one contract (and one contract test suite):
// NewRedis, for several nodes, and NewMemory, for a single process with
// nothing installed. In both, a route expires unless it is renewed, so the
// devices of a gateway node that dies disappear by themselves; a (user,
// device) pair is held by at most one connection, and removal is
// compare-and-delete so a late disconnect never removes its successor.
//
// Concurrency: every Table method is safe for concurrent use. NewMemory owns a
// janitor goroutine that Close stops and waits for; NewRedis starts none and
// does not close the redis client it is given (its caller owns it).
//
// This package must not import the gateway, logic, store or marketing
// packages: it is a leaf that those layers depend on.
package router
