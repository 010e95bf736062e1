package edge

import (
	"go.opentelemetry.io/otel/trace"

	"context"
	"errors"
	"github.com/bangbang-im/bangbang/tracing"
	"strings"

	"github.com/cloudwego/hertz/pkg/app"

	"github.com/bangbang-im/bangbang/core-im/auth"
)

const merchantKey = "merchant"

// maxTokenLen bounds what is handed to the JWT parser; real tokens are a
// few hundred bytes.
const maxTokenLen = 4096

// authenticate admits a request carrying a valid merchant token. The merchant
// every marketing call acts for comes from the token and from nowhere else, so
// no request can name another merchant.
func (s *Server) authenticate(ctx context.Context, c *app.RequestContext) {
	scheme, token, _ := strings.Cut(string(c.GetHeader("Authorization")), " ")
	token = strings.TrimSpace(token)
	if !strings.EqualFold(scheme, "Bearer") || token == "" || len(token) > maxTokenLen {
		c.Header("WWW-Authenticate", `Bearer realm="bangbang"`)
		writeError(c, 401, CodeUnauthenticated, "an Authorization: Bearer <token> header from /v1/login is required")
		return
	}
	claims, err := s.tokens.Verify(token)
	switch {
	case errors.Is(err, auth.ErrTokenExpired):
		c.Header("WWW-Authenticate", `Bearer realm="bangbang", error="invalid_token"`)
		writeError(c, 401, CodeTokenExpired, "the token has expired; log in again")
		return
	case err != nil:
		c.Header("WWW-Authenticate", `Bearer realm="bangbang", error="invalid_token"`)
		writeError(c, 401, CodeUnauthenticated, "the token is not valid")
		return
	}
	if claims.Kind != "merchant" {
		writeError(c, 403, CodeForbidden, "only merchants may use marketing actions")
		return
	}
	c.Set(merchantKey, claims.UserID)
	// The trace store's user filter finds a merchant's actions by this attribute.
	trace.SpanFromContext(ctx).SetAttributes(tracing.AttrUser.String(claims.UserID))
	c.Next(ctx)
}

// merchantOf is the authenticated merchant; authenticate has run before any
// handler that asks.
func merchantOf(c *app.RequestContext) string { return c.GetString(merchantKey) }
