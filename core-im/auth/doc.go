// Package auth issues and verifies the signed tokens merchants and customers present to both
// the IM gateway and the HTTP edge, and checks passwords.
//
// A token is a JWT (HS256) carrying the user id, the user kind, an id (jti), its issue time
// to the millisecond and an expiry. Every gateway and edge instance verifies the signature
// and expiry locally with the shared secret; whether a token was revoked (logout, password
// change, staff) is the store's, asked through logic at each IM login and, cached for
// 5 s, by the edge.
//
// Concurrency: a *Tokens is immutable after New and safe for concurrent use.
// It imports no other package of this repository.
package auth
