package admin

import (
	"context"
	"errors"
	"net/http"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/kitex/pkg/kerrors"

	"github.com/bangbang-im/bangbang/gen/common"
	"github.com/bangbang-im/bangbang/marketing/campaign"
	"github.com/bangbang-im/bangbang/tracing"
)

// Error codes of the staff API: stable strings, documented in docs/api/admin.yaml.
const (
	CodeBadRequest           = "bad_request"
	CodeUnauthenticated      = "unauthenticated"
	CodeForbidden            = "forbidden"
	CodeCSRFFailed           = "csrf_failed"
	CodeNotFound             = "not_found"
	CodePayloadTooLarge      = "payload_too_large"
	CodeUnsupportedMediaType = "unsupported_media_type"
	CodeInvalid              = "invalid"
	CodeInvalidState         = "invalid_state"
	CodeConflict             = "conflict"
	CodeUnavailable          = "unavailable"
	CodeInternal             = "internal"
)

// errorBody is the one error shape of the JSON routes. Field names the input at fault
// (422 only); State is the campaign's state when it forbids the operation (409
// invalid_state only); TraceID names the request's trace when it is traced.
type errorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
	State   string `json:"state,omitempty"`
	TraceID string `json:"trace_id,omitempty"`
}

// writeError answers e with status and stops the handler chain.
func writeError(c *app.RequestContext, status int, e errorBody) {
	e.TraceID = tracing.HertzTraceID(c)
	c.Header("Cache-Control", "no-store")
	c.AbortWithStatusJSON(status, e)
}

func badRequest(c *app.RequestContext, msg string) {
	writeError(c, http.StatusBadRequest, errorBody{Code: CodeBadRequest, Message: msg})
}

func invalid(c *app.RequestContext, field, msg string) {
	writeError(c, http.StatusUnprocessableEntity, errorBody{Code: CodeInvalid, Message: msg, Field: field})
}

func unauthenticated(c *app.RequestContext) {
	c.Header("WWW-Authenticate", `Bearer realm="bangbang-admin"`)
	writeError(c, http.StatusUnauthorized, errorBody{Code: CodeUnauthenticated, Message: "a valid staff key is required"})
}

// fail answers err, an error of the campaign store or of logic, by its kind. what names
// the thing the request was about ("campaign cmp_…") for the not-found and conflict
// messages. Unexpected errors are logged with their detail and answered without it.
func (s *Server) fail(ctx context.Context, c *app.RequestContext, what string, err error) {
	var fe *campaign.FieldError
	var se *campaign.StateError
	var ime *common.IMError
	switch {
	case errors.As(err, &ime) && ime.Code == int32(common.ErrorCode_BAD_REQUEST):
		// Logic refused the input (its messages name the item, never a database's text).
		writeError(c, http.StatusUnprocessableEntity, errorBody{Code: CodeInvalid, Message: ime.Message})
	case errors.As(err, &ime) && ime.Code == int32(common.ErrorCode_NOT_FOUND):
		writeError(c, http.StatusNotFound, errorBody{Code: CodeNotFound, Message: ime.Message})
	case errors.As(err, &fe):
		invalid(c, fe.Field, fe.Error())
	case errors.As(err, &se):
		writeError(c, http.StatusConflict, errorBody{Code: CodeInvalidState, Message: se.Error(), State: string(se.State)})
	case errors.Is(err, campaign.ErrNotFound):
		writeError(c, http.StatusNotFound, errorBody{Code: CodeNotFound, Message: "no " + what})
	case errors.Is(err, campaign.ErrConflict):
		writeError(c, http.StatusConflict, errorBody{Code: CodeConflict, Message: what + " already exists"})
	case temporary(err):
		s.log.WarnContext(ctx, "admin request failed for now", "route", c.FullPath(), "err", err)
		c.Header("Retry-After", "1")
		writeError(c, http.StatusServiceUnavailable, errorBody{Code: CodeUnavailable,
			Message: "a dependency is unavailable; retry after the time in Retry-After"})
	default:
		s.log.ErrorContext(ctx, "admin request failed", "route", c.FullPath(), "err", err)
		writeError(c, http.StatusInternalServerError, errorBody{Code: CodeInternal, Message: "internal error"})
	}
}

// kitexUnreachable are the Kitex client errors that mean logic did not get or answer the
// call: a retry may reach another instance, or this one once it is back.
var kitexUnreachable = []error{kerrors.ErrGetConnection, kerrors.ErrRemoteOrNetwork, kerrors.ErrServiceDiscovery,
	kerrors.ErrNoMoreInstance, kerrors.ErrLoadbalance, kerrors.ErrRPCTimeout, kerrors.ErrCircuitBreak}

// temporary reports whether a retry may cure err: the campaign store or logic is
// unavailable (restarting, unreachable, shutting down) or answered too late.
func temporary(err error) bool {
	var ime *common.IMError
	if errors.As(err, &ime) {
		return ime.Temporary
	}
	if errors.Is(err, campaign.ErrUnavailable) || errors.Is(err, campaign.ErrClosed) ||
		errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	for _, k := range kitexUnreachable {
		if errors.Is(err, k) {
			return true
		}
	}
	return false
}
