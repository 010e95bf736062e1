package gateway

import (
	"context"
	"testing"
	"time"

	"github.com/bangbang-im/bangbang/core-im/auth"
	"github.com/bangbang-im/bangbang/core-im/protocol"
	"github.com/bangbang-im/bangbang/gen/common"
	"github.com/bangbang-im/bangbang/gen/frame"
	gatewaygen "github.com/bangbang-im/bangbang/gen/gateway"
)

// A session lives as long as the token it logged in with: past its expiry the gateway
// sends ERROR TOKEN_EXPIRED [0] and closes, and counts it.
func TestSessionEndsWhenItsTokenExpires(t *testing.T) {
	e := start(t, viaGoroutine, nil)
	short, err := auth.NewTokens(testSecret, time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	tok, exp, err := short.Issue("m1001", "merchant")
	if err != nil {
		t.Fatal(err)
	}
	c := e.dial(t)
	seq := c.send(protocol.OpAuth, &frame.AuthRequest{Token: tok, DeviceId: "phone", Platform: "ios"})
	c.expect(protocol.OpAuthOK, seq, &frame.AuthResponse{})
	var fault frame.Error
	c.expect(protocol.OpError, 0, &fault)
	if common.ErrorCode(fault.Code) != common.ErrorCode_TOKEN_EXPIRED {
		t.Fatalf("ERROR %+v, want TOKEN_EXPIRED", &fault)
	}
	if time.Now().Before(exp) {
		t.Fatalf("closed before the token's expiry %v", exp)
	}
	c.expectClosed()
	if n := e.g.Stats().TokensExpired; n != 1 {
		t.Fatalf("tokens expired = %d, want 1", n)
	}
}

// A logout's kick names the token: only the sessions that logged in with it close.
func TestKickByTokenEndsOnlyThatTokensSessions(t *testing.T) {
	e := start(t, viaGoroutine, nil)
	phoneTok, tabletTok := e.token("m1001"), e.token("m1001")
	phoneClaims, err := e.tokens.Verify(phoneTok)
	if err != nil {
		t.Fatal(err)
	}
	phone, tablet := e.dial(t), e.dial(t)
	seq := phone.send(protocol.OpAuth, &frame.AuthRequest{Token: phoneTok, DeviceId: "phone", Platform: "ios"})
	var phoneOK frame.AuthResponse
	phone.expect(protocol.OpAuthOK, seq, &phoneOK)
	seq = tablet.send(protocol.OpAuth, &frame.AuthRequest{Token: tabletTok, DeviceId: "tablet", Platform: "ios"})
	var tabletOK frame.AuthResponse
	tablet.expect(protocol.OpAuthOK, seq, &tabletOK)

	ctx := context.Background()
	revoked := int32(frame.KickReason_AUTH_REVOKED)
	resp, err := e.g.Kick(ctx, &gatewaygen.KickRequest{ConnId: tabletOK.SessionId, Reason: revoked, TokenId: phoneClaims.ID})
	if err != nil || resp.Found {
		t.Fatalf("kicking the tablet by the phone's token: %+v %v, want not found", resp, err)
	}
	resp, err = e.g.Kick(ctx, &gatewaygen.KickRequest{ConnId: phoneOK.SessionId, Reason: revoked, TokenId: phoneClaims.ID})
	if err != nil || !resp.Found {
		t.Fatalf("kicking the phone by its token: %+v %v", resp, err)
	}
	var k frame.Kick
	phone.expect(protocol.OpKick, 0, &k)
	if k.Reason != revoked {
		t.Fatalf("kick %+v, want AUTH_REVOKED", &k)
	}
	phone.expectClosed()
	tablet.heartbeat()
}

// Before its token expires a client sends AUTH again, on the same connection, with a
// fresh token of the same user and device: AUTH_OK with the same session id, and the
// session lives past the first token's expiry, bound to the new token.
func TestReauthExtendsTheSession(t *testing.T) {
	e := start(t, viaGoroutine, func(c *Config) { c.AuthTimeout = 400 * time.Millisecond }) // sweeps every 100ms
	short, err := auth.NewTokens(testSecret, 2*time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	first, exp, err := short.Issue("m1001", "merchant")
	if err != nil {
		t.Fatal(err)
	}
	c := e.dial(t)
	seq := c.send(protocol.OpAuth, &frame.AuthRequest{Token: first, DeviceId: "phone", Platform: "ios"})
	var ok frame.AuthResponse
	c.expect(protocol.OpAuthOK, seq, &ok)

	// Another user's token, or another device: refused, the connection stays.
	seq = c.send(protocol.OpAuth, &frame.AuthRequest{Token: e.token("m1002"), DeviceId: "phone", Platform: "ios"})
	c.expectError(seq, common.ErrorCode_BAD_REQUEST)
	seq = c.send(protocol.OpAuth, &frame.AuthRequest{Token: e.token("m1001"), DeviceId: "tablet", Platform: "ios"})
	c.expectError(seq, common.ErrorCode_BAD_REQUEST)

	fresh := e.token("m1001")
	seq = c.send(protocol.OpAuth, &frame.AuthRequest{Token: fresh, DeviceId: "phone", Platform: "ios"})
	var again frame.AuthResponse
	c.expect(protocol.OpAuthOK, seq, &again)
	if again.SessionId != ok.SessionId {
		t.Fatalf("re-AUTH changed the session: %s then %s", ok.SessionId, again.SessionId)
	}
	// Past the first token's expiry and a few sweeps, the session is still there.
	e.eventually(t, "the first token's expiry to pass", func() bool {
		return time.Now().After(exp.Add(3 * e.g.cfg.sweepInterval()))
	})
	c.heartbeat()
	if n := e.g.Stats().TokensExpired; n != 0 {
		t.Fatalf("%d sessions closed as expired after a re-AUTH", n)
	}
	// It is bound to the new token now: a logout of it ends the session.
	claims, err := e.tokens.Verify(fresh)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := e.g.Kick(context.Background(), &gatewaygen.KickRequest{ConnId: ok.SessionId, Reason: int32(frame.KickReason_AUTH_REVOKED), TokenId: claims.ID})
	if err != nil || !resp.Found {
		t.Fatalf("kick by the new token: %+v %v", resp, err)
	}
}
