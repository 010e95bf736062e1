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
