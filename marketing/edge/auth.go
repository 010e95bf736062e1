package edge

import (
	"context"

	"github.com/cloudwego/hertz/pkg/app"
	"go.opentelemetry.io/otel/trace"

	"github.com/bangbang-im/bangbang/tracing"
)

const merchantKey = "merchant"

// maxTokenLen bounds what is handed to the JWT parser; real tokens are a
// few hundred bytes.
const maxTokenLen = 4096

// authenticate admits a request carrying a valid merchant token. The merchant
// every marketing call acts for comes from the token and from nowhere else, so
// no request can name another merchant.
func (s *Server) authenticate(ctx context.Context, c *app.RequestContext) {
	claims, ok := s.verified(ctx, c)
	if !ok {
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
