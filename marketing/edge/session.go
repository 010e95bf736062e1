package edge

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cloudwego/hertz/pkg/app"

	"github.com/bangbang-im/bangbang/core-im/auth"
	logicgen "github.com/bangbang-im/bangbang/gen/logic"
)

// TokenCheckTTL is how long the edge trusts its last answer about a token from logic
// (revoked, or its user deleted): a token revoked on another node may still work here for
// at most this long. The node that revokes it refuses it at once.
const TokenCheckTTL = 5 * time.Second

// maxTokenChecks bounds the cached answers; when full the cache starts over.
const maxTokenChecks = 100_000

const claimsKey = "claims"

// tokenChecks caches logic's CheckToken answers by token.
type tokenChecks struct {
	mu  sync.Mutex
	now func() time.Time
	m   map[string]tokenCheck
}

type tokenCheck struct {
	valid bool
	until time.Time
}

func checkKey(c auth.Claims) string {
	return c.UserID + "\x00" + c.ID + "\x00" + strconv.FormatInt(c.IssuedAt.UnixMilli(), 10)
}

func (t *tokenChecks) get(c auth.Claims) (valid, ok bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.m[checkKey(c)]
	if !ok || t.now().After(e.until) {
		return false, false
	}
	return e.valid, true
}

func (t *tokenChecks) put(c auth.Claims, valid bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.m) >= maxTokenChecks {
		clear(t.m)
	}
	t.m[checkKey(c)] = tokenCheck{valid: valid, until: t.now().Add(TokenCheckTTL)}
}

// verified checks the request's bearer token: signature and expiry here, then whether it
// was revoked or its user no longer exists (logic, cached TokenCheckTTL). It answers 401
// itself and reports false when the token may not be used.
func (s *Server) verified(ctx context.Context, c *app.RequestContext) (auth.Claims, bool) {
	scheme, token, _ := strings.Cut(string(c.GetHeader("Authorization")), " ")
	token = strings.TrimSpace(token)
	if !strings.EqualFold(scheme, "Bearer") || token == "" || len(token) > maxTokenLen {
		c.Header("WWW-Authenticate", `Bearer realm="bangbang"`)
		writeError(c, 401, CodeUnauthenticated, "an Authorization: Bearer <token> header from /v1/login is required")
		return auth.Claims{}, false
	}
	claims, err := s.tokens.Verify(token)
	switch {
	case errors.Is(err, auth.ErrTokenExpired):
		c.Header("WWW-Authenticate", `Bearer realm="bangbang", error="invalid_token"`)
		writeError(c, 401, CodeTokenExpired, "the token has expired; log in again")
		return auth.Claims{}, false
	case err != nil:
		c.Header("WWW-Authenticate", `Bearer realm="bangbang", error="invalid_token"`)
		writeError(c, 401, CodeUnauthenticated, "the token is not valid")
		return auth.Claims{}, false
	}
	valid, cached := s.checks.get(claims)
	if !cached {
		resp, err := s.logic.CheckToken(ctx, &logicgen.CheckTokenRequest{UserId: claims.UserID, TokenId: claims.ID, IssuedMs: claims.IssuedAt.UnixMilli()})
		if err != nil {
			s.logicError(ctx, c, "check token", err)
			return auth.Claims{}, false
		}
		valid = resp.Valid
		s.checks.put(claims, valid)
	}
	if !valid {
		c.Header("WWW-Authenticate", `Bearer realm="bangbang", error="invalid_token"`)
		writeError(c, 401, CodeUnauthenticated, "the token was revoked (logged out) or its user no longer exists; log in again")
		return auth.Claims{}, false
	}
	c.Set(claimsKey, claims)
	return claims, true
}

// authenticateAny admits any valid token, merchant or customer: for the session routes.
func (s *Server) authenticateAny(ctx context.Context, c *app.RequestContext) {
	if _, ok := s.verified(ctx, c); ok {
		c.Next(ctx)
	}
}

func claimsOf(c *app.RequestContext) auth.Claims {
	v, _ := c.Get(claimsKey)
	cl, _ := v.(auth.Claims)
	return cl
}

// logout serves POST /v1/logout: the presented token is revoked everywhere (this node at
// once, other edge nodes within TokenCheckTTL, IM at once: its live sessions get KICK
// AUTH_REVOKED). A token without an id (issued by an older version) cannot be named
// alone: every token of its user issued until now is revoked.
func (s *Server) logout(ctx context.Context, c *app.RequestContext) {
	cl := claimsOf(c)
	until := cl.ExpiresAt
	if cl.ID == "" {
		until = time.Now()
	}
	resp, err := s.logic.RevokeTokens(ctx, &logicgen.RevokeTokensRequest{UserId: cl.UserID, TokenId: cl.ID, UntilMs: until.UnixMilli()})
	if err != nil {
		s.logicError(ctx, c, "logout", err)
		return
	}
	s.checks.put(cl, false)
	s.log.InfoContext(ctx, "logged out", "user", cl.UserID, "sessions_kicked", resp.Kicked)
	c.JSON(200, logoutResponse{LoggedOut: true, IMSessionsClosed: int(resp.Kicked)})
}

type logoutResponse struct {
	LoggedOut        bool `json:"logged_out"`
	IMSessionsClosed int  `json:"im_sessions_closed"`
}

type passwordRequest struct {
	OldPassword string `json:"old_password"`
	Password    string `json:"password"`
}

// changePassword serves POST /v1/password: with the current password, set a new one.
// Every token issued before (this one included) is revoked and their IM sessions kicked;
// the answer is a fresh login, as from POST /v1/login.
func (s *Server) changePassword(ctx context.Context, c *app.RequestContext) {
	cl := claimsOf(c)
	var req passwordRequest
	dec := json.NewDecoder(bytes.NewReader(c.Request.Body()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil || dec.More() || req.OldPassword == "" || req.Password == "" {
		writeError(c, 400, CodeBadRequest, "body must be {\"old_password\": string, \"password\": string}")
		return
	}
	if !s.admitLogin(ctx, c, cl.UserID) { // the old password is a password to guess too
		return
	}
	if _, err := s.logic.ChangePassword(ctx, &logicgen.ChangePasswordRequest{UserId: cl.UserID, OldPassword: req.OldPassword, Password: req.Password}); err != nil {
		s.logicError(ctx, c, "change password", err)
		return
	}
	s.checks.put(cl, false)
	token, exp, err := s.tokens.Issue(cl.UserID, cl.Kind)
	if err != nil {
		s.log.ErrorContext(ctx, "change password: issue token", "user", cl.UserID, "err", err)
		writeError(c, 500, CodeInternal, "internal error")
		return
	}
	s.log.InfoContext(ctx, "password changed; earlier tokens revoked", "user", cl.UserID)
	c.JSON(200, loginResponse{Token: token, ExpiresAt: exp.UTC(), UserID: cl.UserID, Kind: cl.Kind,
		IM: s.imFor(ctx, cl.UserID)})
}
