package logic

import (
	"context"
	"testing"
	"time"

	"github.com/bangbang-im/bangbang/gen/common"
	logicgen "github.com/bangbang-im/bangbang/gen/logic"
)

func TestConnectRefusesUnknownUsersAndRevokedTokens(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	connect := func(user, device, conn, token string, issued time.Time) error {
		_, err := f.svc.Connect(ctx, &logicgen.ConnectRequest{UserId: user, DeviceId: device, Node: "n1", ConnId: conn,
			TokenId: token, TokenIssuedMs: issued.UnixMilli()})
		return err
	}
	now := time.Now()
	if err := connect("ghost", "d", "c0", "t0", now); Code(err) != common.ErrorCode_TOKEN_INVALID {
		t.Fatalf("a user that does not exist: %v, want TOKEN_INVALID", err)
	}
	if err := connect("bob", "phone", "c1", "t-phone", now); err != nil {
		t.Fatal(err)
	}
	if err := connect("bob", "tablet", "c2", "t-tablet", now); err != nil {
		t.Fatal(err)
	}
	resp, err := f.svc.RevokeTokens(ctx, &logicgen.RevokeTokensRequest{UserId: "bob", TokenId: "t-phone", UntilMs: now.Add(time.Hour).UnixMilli()})
	if err != nil {
		t.Fatal(err)
	}
	f.gw.mu.Lock()
	kicked := append([]string(nil), f.gw.kicked...)
	f.gw.mu.Unlock()
	// The recorder stands in for the gateway and reports every kick found; the gateway
	// itself filters by token (its own test): both of bob's connections are asked.
	if resp.Kicked != 2 || len(kicked) != 2 {
		t.Fatalf("kicked %d (%v), want both of bob's connections asked", resp.Kicked, kicked)
	}
	if err := connect("bob", "phone", "c3", "t-phone", now); Code(err) != common.ErrorCode_TOKEN_INVALID {
		t.Fatalf("the revoked token: %v, want TOKEN_INVALID", err)
	}
	if err := connect("bob", "tablet", "c4", "t-tablet", now); err != nil {
		t.Fatalf("another token of bob: %v", err)
	}
	// Revoking all: earlier tokens refused, later ones fine.
	if _, err := f.svc.RevokeTokens(ctx, &logicgen.RevokeTokensRequest{UserId: "bob", UntilMs: now.Add(time.Second).UnixMilli()}); err != nil {
		t.Fatal(err)
	}
	if err := connect("bob", "tablet", "c5", "t-tablet", now); Code(err) != common.ErrorCode_TOKEN_INVALID {
		t.Fatalf("a token issued before revoke-all: %v, want TOKEN_INVALID", err)
	}
	if err := connect("bob", "tablet", "c6", "t-new", now.Add(2*time.Second)); err != nil {
		t.Fatalf("a token issued after revoke-all: %v", err)
	}
	check, err := f.svc.CheckToken(ctx, &logicgen.CheckTokenRequest{UserId: "bob", TokenId: "t-phone", IssuedMs: now.UnixMilli()})
	if err != nil || check.Valid {
		t.Fatalf("CheckToken of a revoked token: %+v %v", check, err)
	}
}

func TestChangePassword(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	_, err := f.svc.ChangePassword(ctx, &logicgen.ChangePasswordRequest{UserId: "alice", OldPassword: "nope", Password: "newsecret1"})
	if Code(err) != common.ErrorCode_UNAUTHENTICATED {
		t.Fatalf("wrong old password: %v", err)
	}
	if _, err := f.svc.ChangePassword(ctx, &logicgen.ChangePasswordRequest{UserId: "alice", OldPassword: "secret", Password: "short"}); Code(err) != common.ErrorCode_BAD_REQUEST {
		t.Fatalf("short new password: %v", err)
	}
	if _, err := f.svc.ChangePassword(ctx, &logicgen.ChangePasswordRequest{UserId: "alice", OldPassword: "secret", Password: "newsecret1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Authenticate(ctx, &logicgen.AuthenticateRequest{UserId: "alice", Password: "newsecret1"}); err != nil {
		t.Fatalf("the new password: %v", err)
	}
	if _, err := f.svc.Authenticate(ctx, &logicgen.AuthenticateRequest{UserId: "alice", Password: "secret"}); Code(err) != common.ErrorCode_UNAUTHENTICATED {
		t.Fatalf("the old password: %v", err)
	}
}
