package edge

import (
	"encoding/json"
	"github.com/bangbang-im/bangbang/tracing"
	"strconv"
	"time"

	"github.com/cloudwego/hertz/pkg/app"
)

const contentTypeJSON = "application/json; charset=utf-8"

// reply is a marketing handler's answer, built before it is written so that a
// paid action can store exactly the bytes it sends and replay them.
type reply struct {
	status int
	body   []byte
	// retryAfter, when positive, is sent as Retry-After in whole seconds.
	retryAfter time.Duration
}

// okReply answers 200 with v as JSON.
func okReply(v any) reply {
	b, err := json.Marshal(v)
	if err != nil {
		// The views are plain structs of strings, numbers and times:
		// marshalling cannot fail short of a programming error.
		return reply{status: 500, body: []byte(`{"code":"internal","message":"internal error","request_id":""}`)}
	}
	return reply{status: 200, body: b}
}

// errReply answers with the API's one error shape.
func errReply(c *app.RequestContext, status int, code, msg string) reply {
	b, _ := json.Marshal(errorBody{Code: code, Message: msg, RequestID: c.GetString(requestIDKey), TraceID: tracing.HertzTraceID(c)})
	return reply{status: status, body: b}
}

func (r reply) write(c *app.RequestContext) {
	if r.retryAfter > 0 {
		c.Header("Retry-After", strconv.FormatInt(int64((r.retryAfter+time.Second-1)/time.Second), 10))
	}
	c.Data(r.status, contentTypeJSON, r.body)
	c.Abort()
}
