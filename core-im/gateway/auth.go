package gateway

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/bangbang-im/bangbang/core-im/auth"
	"github.com/bangbang-im/bangbang/core-im/protocol"
	"github.com/bangbang-im/bangbang/gen/common"
	"github.com/bangbang-im/bangbang/gen/frame"
	logicgen "github.com/bangbang-im/bangbang/gen/logic"
)

// Limits on AUTH fields, checked before anything reaches logic or the route table.
const (
	maxDeviceID = 64
	maxPlatform = 32
)

// auth handles the AUTH frame: verify the token locally, register the route through
// logic.Connect, publish the identity, answer AUTH_OK. A body or field error leaves the
// connection open (the auth deadline still runs); a token or logic refusal closes it.
func (s *session) auth(ctx context.Context, f *protocol.Frame) bool {
	g := s.g
	var req frame.AuthRequest
	if err := protocol.DecodeBody(f.Body, &req); err != nil {
		s.badRequest(f, err)
		return true
	}
	if n := len(req.DeviceId); n == 0 || n > maxDeviceID {
		s.replyError(f, errorBody(f, common.ErrorCode_BAD_REQUEST, "device_id must be 1..64 bytes"))
		return true
	}
	if len(req.Platform) > maxPlatform {
		s.replyError(f, errorBody(f, common.ErrorCode_BAD_REQUEST, "platform too long"))
		return true
	}
	claims, ok := s.verify(ctx, f, req.Token)
	if !ok {
		return false
	}
	if g.draining.Load() {
		e := errorBody(f, common.ErrorCode_UNAVAILABLE, "gateway draining: connect elsewhere")
		e.Temporary = true
		s.fatal(f, e, "draining")
		return false
	}

	if !g.admitLogin() {
		g.stats.loginsShed.Add(1)
		e := errorBody(f, common.ErrorCode_UNAVAILABLE, "too many logins at once: retry")
		e.Temporary, e.RetryAfterMs = true, loginRetryAfterMs()
		s.fatal(f, e, "logins in flight")
		return false
	}
	resp, ok := s.connect(ctx, f, claims, req.DeviceId, req.Platform)
	g.loginDone()
	if !ok {
		return false
	}

	id := &identity{user: claims.UserID, device: req.DeviceId, platform: req.Platform,
		tokenID: claims.ID, expiresMs: claims.ExpiresAt.UnixMilli()}
	s.mu.Lock()
	if s.state != stateOpen {
		// Closed while logic registered the route: nobody else will remove it.
		s.mu.Unlock()
		g.disc.add(id.route(s.id))
		return false
	}
	s.ident.Store(id)
	g.table.bindDevice(s, deviceKey{id.user, id.device})
	g.stats.authenticated.Add(1)
	s.mu.Unlock()

	g.log.InfoContext(ctx, "connection authenticated", append(s.attrs(), "platform", req.Platform)...)
	s.authOK(f, id, resp)
	return s.open()
}

// verify checks the AUTH frame's token; a bad one closes the session (TOKEN_EXPIRED or
// TOKEN_INVALID), at the first AUTH and at a renewal alike.
func (s *session) verify(ctx context.Context, f *protocol.Frame, token string) (auth.Claims, bool) {
	claims, err := s.g.tokens.Verify(token)
	switch {
	case errors.Is(err, auth.ErrTokenExpired):
		s.fatal(f, errorBody(f, common.ErrorCode_TOKEN_EXPIRED, "token expired"), "token expired")
		return auth.Claims{}, false
	case err != nil:
		s.g.log.DebugContext(ctx, "token refused", append(s.attrs(), "err", err)...)
		s.fatal(f, errorBody(f, common.ErrorCode_TOKEN_INVALID, "token invalid"), "token invalid")
		return auth.Claims{}, false
	}
	return claims, true
}

// connect registers this connection's route with logic, which also checks the token
// (revoked? user gone?); a refusal closes the session.
func (s *session) connect(ctx context.Context, f *protocol.Frame, claims auth.Claims, device, platform string) (*logicgen.ConnectResponse, bool) {
	g := s.g
	call, cancel := s.call(ctx)
	resp, err := g.logic.Connect(call, &logicgen.ConnectRequest{
		UserId: claims.UserID, DeviceId: device, Platform: platform,
		Node: g.cfg.Node, ConnId: s.id, TokenId: claims.ID, TokenIssuedMs: claims.IssuedAt.UnixMilli(),
	})
	cancel()
	if err != nil {
		s.fatal(f, s.failure(ctx, f, "connect", err), "connect refused")
		return nil, false
	}
	return resp, true
}

// authOK answers an AUTH (first or renewal) for id.
func (s *session) authOK(f *protocol.Frame, id *identity, resp *logicgen.ConnectResponse) {
	s.reply(f, protocol.OpAuthOK, &frame.AuthResponse{
		UserId:              id.user,
		SessionId:           s.id,
		ServerTimeMs:        time.Now().UnixMilli(),
		HeartbeatIntervalMs: s.g.heartbeatMs(resp.GetHeartbeatIntervalMs()),
		MaxSeq:              resp.GetMaxSeq(),
		AckedSeq:            resp.GetAckedSeq(),
		TokenExpiresAtMs:    id.expiresMs,
	})
}

// heartbeatMs is the interval told to the client: logic's when it sets one, else ours,
// and never more than half the idle timeout, or an obedient client would be swept as idle.
func (g *Gateway) heartbeatMs(fromLogic int32) int32 {
	d := g.cfg.HeartbeatInterval
	if fromLogic > 0 {
		d = time.Duration(fromLogic) * time.Millisecond
	}
	d = min(d, g.cfg.IdleTimeout/2)
	return int32(d / time.Millisecond)
}

// reauth renews an authenticated session with a fresh token of the same user, for the
// same device, before the one it logged in with expires: the session keeps its id and its
// route, and is bound from now on to the new token (its expiry, its revocation). Another
// user's token or another device is BAD_REQUEST (the connection stays, on its old token);
// a token that fails verification closes it, as at the first AUTH.
func (s *session) reauth(ctx context.Context, f *protocol.Frame) bool {
	cur := s.ident.Load()
	var req frame.AuthRequest
	if err := protocol.DecodeBody(f.Body, &req); err != nil {
		s.badRequest(f, err)
		return true
	}
	if req.DeviceId != cur.device {
		s.replyError(f, errorBody(f, common.ErrorCode_BAD_REQUEST, "already authenticated: a new AUTH must name the same device"))
		return true
	}
	claims, ok := s.verify(ctx, f, req.Token)
	if !ok {
		return false
	}
	if claims.UserID != cur.user {
		s.replyError(f, errorBody(f, common.ErrorCode_BAD_REQUEST, "already authenticated: a new AUTH must be for the same user"))
		return true
	}
	// Connect again with this connection's id: the route is this connection's already, so
	// nothing is replaced; logic checks the new token (revoked? user gone?).
	resp, ok := s.connect(ctx, f, claims, cur.device, cur.platform)
	if !ok {
		return false
	}
	next := *cur
	next.tokenID, next.expiresMs = claims.ID, claims.ExpiresAt.UnixMilli()
	s.ident.Store(&next)
	s.g.log.InfoContext(ctx, "connection re-authenticated", append(s.attrs(), "expires", claims.ExpiresAt)...)
	s.authOK(f, &next, resp)
	return s.open()
}

// loginSlots makes the login bound: n slots, or none for n < 0.
func loginSlots(n int) chan struct{} {
	if n < 0 {
		return nil
	}
	return make(chan struct{}, n)
}

// admitLogin takes a login slot if one is free; loginDone gives it back.
func (g *Gateway) admitLogin() bool {
	if g.logins == nil {
		return true
	}
	select {
	case g.logins <- struct{}{}:
		return true
	default:
		return false
	}
}

func (g *Gateway) loginDone() {
	if g.logins != nil {
		<-g.logins
	}
}

// loginRetryAfterMs spreads refused logins over 0.5–1.5 s, so they do not come back as one
// wave.
func loginRetryAfterMs() int32 { return 500 + rand.Int32N(1000) }
