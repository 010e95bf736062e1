package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"github.com/cloudwego/hertz/pkg/app"
)

// Request body limits, documented in docs/api/admin.yaml.
const (
	// MaxJSONBody bounds the body of every route but the streamed ones.
	MaxJSONBody = 64 << 10
	// MaxImportBody bounds a merchant import, read as a stream.
	MaxImportBody = 1 << 30
	// maxDrain is how much of a refused body is still read, so the client sees the answer
	// rather than a reset connection; past it the connection is closed unread.
	maxDrain = 256 << 10
)

// The server reads request bodies as streams (server.WithStreamBody), which Hertz
// applies to every route: it is the only way to import a large file without holding it
// in memory. Every route but the streamed ones gets its body through bufferBody, which
// reads at most MaxJSONBody into memory, as Hertz would have, and refuses a larger one;
// the streamed routes bound their own reading (import: MaxImportBody; OTLP ingest:
// tracing.MaxIngestBody).

// bufferBody reads the body of a route that is not in streamed into memory, up to
// MaxJSONBody, so handlers and Hertz's form parsing see it whole; a larger body is
// answered 413.
func (s *Server) bufferBody(streamed map[string]bool) app.HandlerFunc {
	return func(ctx context.Context, c *app.RequestContext) {
		if streamed[string(c.Method())+" "+c.FullPath()] {
			// The handler reads what it needs, if it runs at all (a refused key, a
			// refused format): what is left is not read to its end.
			c.Next(ctx)
			finishBody(c)
			return
		}
		if !c.Request.IsBodyStream() {
			c.Next(ctx)
			return
		}
		if c.Request.Header.ContentLength() > MaxJSONBody {
			tooLarge(c, MaxJSONBody)
			return
		}
		b, err := io.ReadAll(io.LimitReader(c.RequestBodyStream(), MaxJSONBody+1))
		switch {
		case err != nil:
			c.Response.SetConnectionClose()
			badRequest(c, "the body could not be read")
		case len(b) > MaxJSONBody:
			tooLarge(c, MaxJSONBody)
		default:
			c.Request.SetBody(b)
			c.Next(ctx)
		}
	}
}

// tooLarge answers 413 to a body over limit, and closes the connection after reading at
// most maxDrain more of it.
func tooLarge(c *app.RequestContext, limit int64) {
	writeError(c, http.StatusRequestEntityTooLarge, errorBody{Code: CodePayloadTooLarge,
		Message: "the body is over " + strconv.FormatInt(limit, 10) + " bytes"})
	c.Response.SetConnectionClose()
	finishBody(c)
}

// finishBody reads what is left of a streamed body, at most maxDrain, so the connection
// can serve the next request (or the client, still sending, sees the answer rather than
// a reset); past that it closes the connection with the rest unread. Hertz would
// otherwise skip the rest, however long, to reach the next request.
func finishBody(c *app.RequestContext) {
	if !c.Request.IsBodyStream() {
		return
	}
	n, err := io.Copy(io.Discard, io.LimitReader(c.RequestBodyStream(), maxDrain+1))
	if err == nil && n <= maxDrain {
		return // at its end
	}
	c.Response.SetConnectionClose()
	// Detach the stream: Hertz then neither skips the rest nor reuses the connection.
	c.Request.ResetBody()
}

// cappedReader reads r up to n bytes, then fails with errBodyTooLarge.
type cappedReader struct {
	r    io.Reader
	n    int64
	over bool
}

var errBodyTooLarge = errors.New("request body too large")

func (cr *cappedReader) Read(p []byte) (int, error) {
	if cr.n <= 0 {
		// One byte more tells a body of exactly n bytes from a longer one.
		var one [1]byte
		k, err := cr.r.Read(one[:])
		if k > 0 {
			cr.over = true
			return 0, errBodyTooLarge
		}
		return 0, err
	}
	if int64(len(p)) > cr.n {
		p = p[:cr.n]
	}
	k, err := cr.r.Read(p)
	cr.n -= int64(k)
	return k, err
}

// decodeJSON reads the request's JSON body into v strictly: one JSON value, no trailing
// data, no field v does not have (so a typo is an error, not an ignored option). It
// answers the request and returns false when the body does not decode: 400 for malformed
// JSON or an unknown field, 422 naming the field for a value of the wrong type.
func decodeJSON(c *app.RequestContext, v any) bool {
	dec := json.NewDecoder(bytes.NewReader(c.Request.Body()))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if _, terr := dec.Token(); terr != io.EOF {
			badRequest(c, "the body holds more than one JSON value")
			return false
		}
		return true
	}
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.EOF):
		badRequest(c, "the body must be a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		badRequest(c, "malformed JSON: the body ends inside a value")
	case errors.As(err, &se):
		badRequest(c, fmt.Sprintf("malformed JSON at byte %d: %s", se.Offset, strings.TrimPrefix(se.Error(), "json: ")))
	case errors.As(err, &te) && te.Field != "":
		invalid(c, te.Field, te.Field+": must be "+jsonType(te.Type))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		badRequest(c, strings.TrimPrefix(err.Error(), "json: ")+": not a field of this body")
	default:
		badRequest(c, "the body must be a JSON object of the documented shape")
	}
	return false
}

// decodeOptionalJSON is decodeJSON for routes whose body may be empty.
func decodeOptionalJSON(c *app.RequestContext, v any) bool {
	if len(bytes.TrimSpace(c.Request.Body())) == 0 {
		return true
	}
	return decodeJSON(c, v)
}

// jsonType names the JSON type a Go type decodes from, for error messages.
func jsonType(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct:
		if t.String() == "time.Time" {
			return "an RFC 3339 time"
		}
		return "an object"
	case reflect.Map:
		return "an object"
	}
	return "of another type"
}
