package client

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bangbang-im/bangbang/core-im/protocol"
	"github.com/bangbang-im/bangbang/gen/frame"
)

// A session whose token is about to expire is renewed in place: the client asks
// Config.Token for a token and sends AUTH on the same connection, before the expiry, and
// keeps the connection.
func TestSessionRenewedBeforeTokenExpiry(t *testing.T) {
	s := newTestServer(t)
	expires := time.Now().Add(500 * time.Millisecond)
	s.onAuth = func(n int, req *frame.AuthRequest) protocol.Body {
		resp := s.acceptAuth(n, req).(*frame.AuthResponse)
		resp.TokenExpiresAtMs = expires.UnixMilli()
		return resp
	}
	var issued atomic.Int32
	cfg := testConfig(t, s)
	cfg.Token = func(context.Context) (string, error) { return fmt.Sprintf("tok-%d", issued.Add(1)), nil }
	c := dial(t, cfg)
	sc := s.accept()
	synced(t, c, sc)

	var req frame.AuthRequest
	f := sc.expect(protocol.OpAuth, &req)
	if time.Now().After(expires) {
		t.Fatalf("renewed at %v, after the expiry %v", time.Now(), expires)
	}
	if req.Token != "tok-2" || req.DeviceId != cfg.DeviceID {
		t.Fatalf("renewal AUTH %+v, want a fresh token for the same device", &req)
	}
	later := time.Now().Add(time.Hour).UnixMilli()
	if err := sc.write(protocol.OpAuthOK, f.Seq, &frame.AuthResponse{UserId: "u1", SessionId: "s1", TokenExpiresAtMs: later}); err != nil {
		t.Fatal(err)
	}
	roundTrip(t, c, sc) // the same connection still serves requests
	if n := s.authCount(); n != 1 {
		t.Fatalf("%d connections authenticated, want the one renewed in place", n)
	}
}
