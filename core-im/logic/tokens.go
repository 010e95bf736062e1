package logic

import (
	"context"
	"errors"
	"time"

	"github.com/bangbang-im/bangbang/core-im/auth"
	"github.com/bangbang-im/bangbang/core-im/router"
	"github.com/bangbang-im/bangbang/core-im/store"
	"github.com/bangbang-im/bangbang/gen/common"
	"github.com/bangbang-im/bangbang/gen/frame"
	gatewaygen "github.com/bangbang-im/bangbang/gen/gateway"
	logicgen "github.com/bangbang-im/bangbang/gen/logic"
)

// MinPasswordBytes is the shortest password ChangePassword sets.
const MinPasswordBytes = 8

// tokenUsable refuses, as TOKEN_INVALID, a token whose user does not exist (a valid
// signature proves only that we issued it) or that was revoked.
func (s *Service) tokenUsable(ctx context.Context, op, user, tokenID string, issued time.Time) error {
	if !s.users.has(user) {
		if _, err := s.store.GetUser(ctx, user); errors.Is(err, store.ErrNotFound) {
			return imError(common.ErrorCode_TOKEN_INVALID, "%s: no such user", op)
		} else if err != nil {
			return s.internal(ctx, op, err, "user", user)
		}
		s.users.add(user)
	}
	if tokenID != "" && !store.ValidID(tokenID) {
		return imError(common.ErrorCode_TOKEN_INVALID, "%s: malformed token id", op)
	}
	revoked, err := s.store.TokenRevoked(ctx, user, tokenID, issued)
	if err != nil {
		return s.internal(ctx, op, err, "user", user)
	}
	if revoked {
		return imError(common.ErrorCode_TOKEN_INVALID, "%s: token revoked", op)
	}
	return nil
}

// CheckToken says whether a verified token may still be used.
func (s *Service) CheckToken(ctx context.Context, req *logicgen.CheckTokenRequest) (_ *logicgen.CheckTokenResponse, err error) {
	ctx, done := s.observe(ctx, "CheckToken", req.UserId)
	defer func() { done(err) }()
	if !validID(req.UserId) {
		return &logicgen.CheckTokenResponse{Valid: false}, nil
	}
	err = s.tokenUsable(ctx, "check token", req.UserId, req.TokenId, time.UnixMilli(req.IssuedMs))
	if Code(err) == common.ErrorCode_TOKEN_INVALID {
		return &logicgen.CheckTokenResponse{Valid: false}, nil
	}
	if err != nil {
		return nil, err
	}
	return &logicgen.CheckTokenResponse{Valid: true}, nil
}

// RevokeTokens records the revocation, then kicks the live IM sessions it ends.
func (s *Service) RevokeTokens(ctx context.Context, req *logicgen.RevokeTokensRequest) (_ *logicgen.RevokeTokensResponse, err error) {
	ctx, done := s.observe(ctx, "RevokeTokens", req.UserId)
	defer func() { done(err) }()
	if !validID(req.UserId) || req.TokenId != "" && !store.ValidID(req.TokenId) || req.UntilMs <= 0 {
		return nil, imError(common.ErrorCode_BAD_REQUEST, "revoke tokens: user, a well-formed token id or none, and until_ms are required")
	}
	if err := s.store.RevokeTokens(ctx, req.UserId, req.TokenId, time.UnixMilli(req.UntilMs)); err != nil {
		return nil, s.storeError(ctx, "revoke tokens", err, "user", req.UserId)
	}
	kicked := s.kickRevoked(ctx, req.UserId, req.TokenId)
	s.log.InfoContext(ctx, "tokens revoked", "user", req.UserId, "token", req.TokenId, "all", req.TokenId == "", "kicked", kicked)
	return &logicgen.RevokeTokensResponse{Kicked: int32(kicked)}, nil
}

// kickRevoked asks the gateways holding user's connections to close those logged in with
// tokenID ("" every one) with KICK AUTH_REVOKED. A gateway that cannot be reached is
// logged: its connection is refused at its next login anyway, and closed at its token's
// expiry.
func (s *Service) kickRevoked(ctx context.Context, user, tokenID string) int {
	found, err := s.routes.Lookup(ctx, []string{user})
	if err != nil {
		s.log.WarnContext(ctx, "revoke: route lookup failed; live sessions not kicked", "user", user, "err", err)
		return 0
	}
	kicked := 0
	for _, r := range found[user] {
		if s.kickToken(ctx, r, tokenID) {
			kicked++
		}
	}
	return kicked
}

func (s *Service) kickToken(ctx context.Context, r router.Route, tokenID string) bool {
	gw, err := s.gws.Gateway(r.Node)
	var resp *gatewaygen.KickResponse
	if err == nil {
		resp, err = gw.Kick(ctx, &gatewaygen.KickRequest{ConnId: r.ConnID, Reason: int32(frame.KickReason_AUTH_REVOKED),
			Message: "login revoked", TokenId: tokenID})
	}
	if err != nil {
		s.log.WarnContext(ctx, "revoke: kick failed", "node", r.Node, "conn", r.ConnID, "err", err)
		return false
	}
	return resp.GetFound()
}

// ChangePassword checks the old password, stores the new one's hash and revokes every
// token issued before now.
func (s *Service) ChangePassword(ctx context.Context, req *logicgen.ChangePasswordRequest) (_ *logicgen.ChangePasswordResponse, err error) {
	ctx, done := s.observe(ctx, "ChangePassword", req.UserId)
	defer func() { done(err) }()
	if len(req.Password) < MinPasswordBytes || len(req.Password) > auth.MaxPasswordBytes {
		return nil, imError(common.ErrorCode_BAD_REQUEST, "change password: the new password must be %d..%d bytes", MinPasswordBytes, auth.MaxPasswordBytes)
	}
	if _, err := s.Authenticate(ctx, &logicgen.AuthenticateRequest{UserId: req.UserId, Password: req.OldPassword}); err != nil {
		return nil, err
	}
	u, err := s.store.GetUser(ctx, req.UserId)
	if err != nil {
		return nil, s.internal(ctx, "change password", err, "user", req.UserId)
	}
	if u.PasswordHash, err = auth.HashPassword(req.Password); err != nil {
		return nil, s.internal(ctx, "change password", err, "user", req.UserId)
	}
	if err := s.store.PutUser(ctx, u); err != nil {
		return nil, s.storeError(ctx, "change password", err, "user", req.UserId)
	}
	resp, err := s.RevokeTokens(ctx, &logicgen.RevokeTokensRequest{UserId: req.UserId, UntilMs: s.now().UnixMilli()})
	if err != nil {
		return nil, err
	}
	return &logicgen.ChangePasswordResponse{Kicked: resp.Kicked}, nil
}
