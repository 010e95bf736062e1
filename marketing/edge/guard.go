package edge

import (
	"context"
	"errors"

	"github.com/cloudwego/hertz/pkg/app"

	"github.com/bangbang-im/bangbang/marketing/ratelimit"
)

// needs answers 503 when what a route calls is not configured (a node
// started without the third parties), rather than failing inside it.
func (s *Server) needs(line string, paid bool) app.HandlerFunc {
	return func(ctx context.Context, c *app.RequestContext) {
		ok := s.limiter != nil && (!paid || s.idem != nil)
		switch line {
		case lineHousing:
			ok = ok && s.housing != nil
		case lineRecruitment:
			ok = ok && s.recruitment != nil
		case lineAccount:
			ok = ok && s.account != nil
		}
		if !ok {
			writeError(c, 503, CodeUnavailable, "marketing is not configured")
			return
		}
		c.Next(ctx)
	}
}

// limit charges the request to the merchant's budget for class before any
// SOAP call, and tells the app where it stands in RateLimit-* headers.
func (s *Server) limit(class ratelimit.Class) app.HandlerFunc {
	return func(ctx context.Context, c *app.RequestContext) {
		m := merchantOf(c)
		d, err := s.limiter.Allow(ctx, m, class)
		switch {
		case errors.Is(err, ratelimit.ErrUnknownClass), errors.Is(err, ratelimit.ErrInvalidLimit):
			// A configuration mistake, not a request's: refuse rather than
			// run an action class with no limit at all.
			s.log.ErrorContext(ctx, "rate limit misconfigured", "request_id", c.GetString(requestIDKey),
				"merchant", m, "class", class, "err", err)
			writeError(c, 500, CodeInternal, "internal error")
			return
		case err != nil:
			// The limiter already decides locally when Redis is unreachable;
			// an error here is a canceled request or an odd merchant id, and
			// refusing every request for it would turn a limiter bug into an
			// outage.
			s.log.WarnContext(ctx, "rate limit undecided, request let through", "request_id", c.GetString(requestIDKey),
				"merchant", m, "class", class, "err", err)
			c.Next(ctx)
			return
		}
		for k, v := range ratelimit.Headers(d) {
			c.Header(k, v)
		}
		if !d.Allowed {
			writeError(c, 429, CodeRateLimited, "too many "+string(class)+" requests; retry after the time in Retry-After")
			return
		}
		c.Next(ctx)
	}
}
