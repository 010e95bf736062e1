package edge

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"github.com/bangbang-im/bangbang/tracing"

	"github.com/cloudwego/hertz/pkg/app"
)

// Error codes of the HTTP API: stable strings, documented in docs/api/merchant.yaml.
const (
	CodeBadRequest             = "bad_request"
	CodeUnauthenticated        = "unauthenticated"
	CodeTokenExpired           = "token_expired"
	CodeForbidden              = "forbidden"
	CodeNotFound               = "not_found"
	CodeMethodNotAllowed       = "method_not_allowed"
	CodePayloadTooLarge        = "payload_too_large"
	CodeIdempotencyKeyRequired = "idempotency_key_required"
	CodeIdempotencyInFlight    = "idempotency_in_flight"
	CodeIdempotencyKeyReused   = "idempotency_key_reused"
	CodeRateLimited            = "rate_limited"
	CodeNotOwner               = "not_owner"
	CodeInsufficientCredits    = "insufficient_credits"
	CodeQuotaExceeded          = "quota_exceeded"
	CodeInvalidRequest         = "invalid_request"
	CodeUpstreamError          = "upstream_error"
	CodeUpstreamTimeout        = "upstream_timeout"
	CodeUpstreamUnavailable    = "upstream_unavailable"
	CodeUnavailable            = "unavailable"
	CodeInternal               = "internal"
)

// errorBody is the one error shape of every route.
type errorBody struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	RequestID string `json:"request_id"`
	// TraceID names the request's trace when tracing is on, so a merchant's bug report
	// leads an SRE straight to it (bangbang trace ID).
	TraceID string `json:"trace_id,omitempty"`
}

const requestIDKey = "request_id"

// requestID gives every request an id (the client's X-Request-Id when sane), echoed in the
// response header and in error bodies.
func requestID(ctx context.Context, c *app.RequestContext) {
	id := string(c.GetHeader("X-Request-Id"))
	if id == "" || len(id) > 64 || !printable(id) {
		var b [8]byte
		_, _ = rand.Read(b[:])
		id = hex.EncodeToString(b[:])
	}
	c.Set(requestIDKey, id)
	c.Header("X-Request-Id", id)
	c.Next(ctx)
}

// printable reports whether s is printable ASCII, so it can be echoed in a header.
func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

func writeError(c *app.RequestContext, status int, code, msg string) {
	c.AbortWithStatusJSON(status, errorBody{Code: code, Message: msg, RequestID: c.GetString(requestIDKey), TraceID: tracing.HertzTraceID(c)})
}

func (s *Server) noRoute(ctx context.Context, c *app.RequestContext) {
	writeError(c, 404, CodeNotFound, "no such route")
}

func (s *Server) noMethod(ctx context.Context, c *app.RequestContext) {
	writeError(c, 405, CodeMethodNotAllowed, "method not allowed on this route")
}
