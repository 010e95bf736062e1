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
	expires := time.Now().Add(time.Second) // renewed 100ms before
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

	// The renewal is scheduled a tenth of the time left before the expiry; when it is read
	// on a loaded machine is not the point: that it comes on this connection is.
	var req frame.AuthRequest
	f := sc.expect(protocol.OpAuth, &req)
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
