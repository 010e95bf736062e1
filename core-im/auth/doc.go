// Package auth issues and verifies the signed tokens merchants and customers present to both
// the IM gateway and the HTTP edge, and checks passwords.
//
// A token is a JWT (HS256) carrying the user id, the user kind and an expiry. Every gateway
// and edge instance verifies tokens locally with the shared secret: no network call per
// connection or request.
//
// Concurrency: a *Tokens is immutable after New and safe for concurrent use.
// It imports no other package of this repository.
package auth
