package edge

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/cloudwego/hertz/pkg/app"
)

// Input limits of the marketing routes, documented in docs/api/merchant.yaml.
const (
	maxActionBody  = 4 << 10 // bytes of a JSON body
	maxIDLen       = 64
	maxPageToken   = 128
	maxPageSize    = 100
	maxPromoteDays = 30
	maxRangeDays   = 31 // from and to included
)

// inputError is a request the edge refuses before calling anyone.
type inputError struct {
	status    int
	code, msg string
}

func (e *inputError) Error() string { return e.code + ": " + e.msg }

func badRequest(format string, args ...any) *inputError {
	return &inputError{status: 400, code: CodeBadRequest, msg: fmt.Sprintf(format, args...)}
}

func (e *inputError) reply(c *app.RequestContext) reply { return errReply(c, e.status, e.code, e.msg) }

// decodeBody reads a small JSON object strictly: unknown fields, trailing
// data and oversized bodies are refused, so a typo in a field name is an
// error rather than a silently ignored option.
func decodeBody(c *app.RequestContext, v any, shape string) *inputError {
	body := c.Request.Body()
	if len(body) > maxActionBody {
		return &inputError{status: 413, code: CodePayloadTooLarge,
			msg: "the body is over " + strconv.Itoa(maxActionBody) + " bytes"}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil || dec.More() {
		return badRequest("the body must be the JSON object %s", shape)
	}
	return nil
}

// validID accepts the ids the third parties issue: 1..64 bytes of letters,
// digits, '_' and '-'. Checking here keeps anything else out of the SOAP
// envelopes and the logs.
func validID(s string) bool {
	if len(s) == 0 || len(s) > maxIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

func pathID(c *app.RequestContext, what string) (string, *inputError) {
	id := c.Param("id")
	if !validID(id) {
		return "", badRequest("the %s id must be 1..%d letters, digits, '_' or '-'", what, maxIDLen)
	}
	return id, nil
}

// checkDays validates a promotion length.
func checkDays(d int) *inputError {
	if d < 1 || d > maxPromoteDays {
		return badRequest("days must be between 1 and %d", maxPromoteDays)
	}
	return nil
}

// dateRange reads from and to (YYYY-MM-DD, both included, at most
// maxRangeDays days).
func dateRange(c *app.RequestContext) (from, to time.Time, _ *inputError) {
	from, err1 := time.Parse(time.DateOnly, c.Query("from"))
	to, err2 := time.Parse(time.DateOnly, c.Query("to"))
	switch {
	case err1 != nil || err2 != nil:
		return from, to, badRequest("from and to are required dates, YYYY-MM-DD")
	case to.Before(from):
		return from, to, badRequest("to is before from")
	case to.Sub(from) >= maxRangeDays*24*time.Hour:
		return from, to, badRequest("the range from..to is longer than %d days", maxRangeDays)
	}
	return from, to, nil
}

// page reads page_token (opaque, as the previous page returned it) and
// page_size; a size of 0 means the third party's default.
func page(c *app.RequestContext) (token string, size int32, _ *inputError) {
	token = c.Query("page_token")
	if len(token) > maxPageToken || !tokenChars(token) {
		return "", 0, badRequest("page_token must be a next_page_token from a previous page")
	}
	if raw, ok := c.GetQuery("page_size"); ok {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > maxPageSize {
			return "", 0, badRequest("page_size must be between 1 and %d", maxPageSize)
		}
		size = int32(n)
	}
	return token, size, nil
}

// tokenChars accepts the URL-safe characters page tokens are made of.
func tokenChars(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '=' || c == '.' || c == '~') {
			return false
		}
	}
	return true
}
