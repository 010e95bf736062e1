package edge

import (
	"context"
	"crypto/rand"
	"encoding/hex"

	"github.com/cloudwego/hertz/pkg/app"
)

// Error codes of the HTTP API: stable strings, documented in docs/api/merchant.yaml.
const (
	CodeBadRequest      = "bad_request"
	CodeUnauthenticated = "unauthenticated"
	CodeUnavailable     = "unavailable"
	CodeInternal        = "internal"
)

// errorBody is the one error shape of every route.
type errorBody struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	RequestID string `json:"request_id"`
}

const requestIDKey = "request_id"

// requestID gives every request an id (the client's X-Request-Id when sane), echoed in the
// response header and in error bodies.
func requestID(ctx context.Context, c *app.RequestContext) {
	id := string(c.GetHeader("X-Request-Id"))
	if id == "" || len(id) > 64 {
		var b [8]byte
		_, _ = rand.Read(b[:])
		id = hex.EncodeToString(b[:])
	}
	c.Set(requestIDKey, id)
	c.Header("X-Request-Id", id)
	c.Next(ctx)
}

func writeError(c *app.RequestContext, status int, code, msg string) {
	c.AbortWithStatusJSON(status, errorBody{Code: code, Message: msg, RequestID: c.GetString(requestIDKey)})
}
