package edge

import (
	"context"
	"errors"
	"strconv"
	"unicode"
	"unicode/utf8"

	"github.com/cloudwego/hertz/pkg/app"

	"github.com/bangbang-im/bangbang/gen/common"
	"github.com/bangbang-im/bangbang/marketing/ratelimit"
)

// admitLogin charges one login attempt to the account's and the client address's budgets
// (the TCP peer: X-Forwarded-For is not trusted) before the password is checked. Refused,
// it answers 429 with Retry-After and reports false: while throttled even the right
// password is refused, so guessing gains nothing.
func (s *Server) admitLogin(ctx context.Context, c *app.RequestContext, user string) bool {
	if s.logins == nil {
		return true
	}
	remote := c.RemoteAddr().String()
	d, scope, err := s.logins.Check(ctx, user, remote)
	if err != nil {
		s.log.WarnContext(ctx, "login: rate limit undecided", "user", user, "err", err)
		c.Header("Retry-After", "1")
		writeError(c, 503, CodeUnavailable, "login is unavailable, retry later")
		return false
	}
	if d.Allowed {
		return true
	}
	s.log.WarnContext(ctx, "login throttled", "user", user, "remote", remote, "scope", scope, "retry_after", d.RetryAfter)
	for k, v := range ratelimit.Headers(d) {
		c.Header(k, v)
	}
	writeError(c, 429, CodeRateLimited, "too many login attempts for this "+scope+"; retry after the time in Retry-After")
	return false
}

// logicError answers a logic call that failed: a refusal keeps its meaning (the client's
// mistake is a 4xx), a dependency away or logic unreachable is 503 with Retry-After, and
// what is left is 500. Detail goes to the log, never to the client.
func (s *Server) logicError(ctx context.Context, c *app.RequestContext, op string, err error) {
	status, code, msg, retry := logicStatus(err)
	if status >= 500 {
		s.log.ErrorContext(ctx, op+": logic call failed", "err", err)
	} else {
		s.log.InfoContext(ctx, op+": refused by logic", "err", err)
	}
	if retry > 0 {
		c.Header("Retry-After", strconv.Itoa(retry))
	}
	writeError(c, status, code, msg)
}

// logicStatus maps a logic error to the HTTP answer: status, error code, message, and the
// Retry-After seconds (0: none).
func logicStatus(err error) (status int, code, msg string, retryAfter int) {
	var ie *common.IMError
	if !errors.As(err, &ie) {
		// Not logic's answer: logic could not be reached (restarting, overloaded).
		return 503, CodeUnavailable, "the service is unavailable, retry later", 1
	}
	switch common.ErrorCode(ie.Code) {
	case common.ErrorCode_BAD_REQUEST:
		return 400, CodeBadRequest, "invalid request", 0
	case common.ErrorCode_UNAUTHENTICATED, common.ErrorCode_TOKEN_INVALID:
		return 401, CodeUnauthenticated, "unauthenticated", 0
	case common.ErrorCode_TOKEN_EXPIRED:
		return 401, CodeTokenExpired, "token expired", 0
	case common.ErrorCode_FORBIDDEN:
		return 403, CodeForbidden, "forbidden", 0
	case common.ErrorCode_NOT_FOUND:
		return 404, CodeNotFound, "not found", 0
	case common.ErrorCode_RATE_LIMITED:
		return 429, CodeRateLimited, "rate limited, retry later", max(1, (int(ie.RetryAfterMs)+999)/1000)
	case common.ErrorCode_UNAVAILABLE:
		return 503, CodeUnavailable, "the service is unavailable, retry later", 1
	default:
		return 500, CodeInternal, "internal error", 0
	}
}

// printableText reports whether s is UTF-8 text without control characters (NUL included):
// no user id holds one, and logs and keys stay unambiguous.
func printableText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}
