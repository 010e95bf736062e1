package store

import (
	"errors"
	"testing"
	"time"
)

func testTokenRevocations(t *testing.T, b backend) {
	s := b.open(t, Options{})
	ctx := t.Context()
	now := time.Now()
	revoked := func(user, jti string, issued time.Time) bool {
		t.Helper()
		r, err := s.TokenRevoked(ctx, user, jti, issued)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	if revoked("u1", "t1", now) {
		t.Fatal("a token nobody revoked is revoked")
	}
	// One token.
	if err := s.RevokeTokens(ctx, "u1", "t1", now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if !revoked("u1", "t1", now) || revoked("u1", "t2", now) || revoked("u2", "t1", now) {
		t.Fatal("revoking token t1 of u1 must revoke exactly it")
	}
	// Every token issued before a cutoff; a later token stays good, and an earlier cutoff
	// never moves it back.
	cut := now.Add(time.Minute)
	if err := s.RevokeTokens(ctx, "u2", "", cut); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeTokens(ctx, "u2", "", now.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if !revoked("u2", "a", now) || !revoked("u2", "b", cut.Add(-time.Millisecond)) || revoked("u2", "c", cut) || revoked("u2", "d", cut.Add(time.Second)) {
		t.Fatal("revoking all of u2's tokens before the cutoff: wrong verdicts")
	}
	// A revocation of an expired token is purged by the next revocation of that user.
	if err := s.RevokeTokens(ctx, "u3", "old", now.Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeTokens(ctx, "u3", "new", now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if revoked("u3", "old", now) || !revoked("u3", "new", now) {
		t.Fatal("expired revocation not purged, or the new one lost")
	}
	for _, bad := range []struct{ user, jti string }{{"", "x"}, {"u1", "a\x00b"}} {
		if err := s.RevokeTokens(ctx, bad.user, bad.jti, now); !errors.Is(err, ErrInvalid) {
			t.Errorf("revoke %q/%q: %v, want ErrInvalid", bad.user, bad.jti, err)
		}
	}
}
