package edge

import (
	"context"
	"log/slog"
	"time"

	"github.com/cloudwego/hertz/pkg/app"
)

// maxLoggedPath bounds the request path copied into an access line: a client chooses it.
const maxLoggedPath = 256

// accessLog writes one info line per request once it is answered ("request": method,
// route pattern, path, status, duration, merchant when authenticated, request id, client
// address; the trace ids come from the logger's handler, from ctx). It runs inside the
// server span and the request id, so the line carries both. Failures are also logged
// where they happen, with their detail; this line is the request's summary. At
// --log-level warn it costs one level check.
func (s *Server) accessLog(ctx context.Context, c *app.RequestContext) {
	start := time.Now()
	c.Next(ctx)
	if !s.log.Enabled(ctx, slog.LevelInfo) {
		return
	}
	path := c.Request.URI().Path()
	if len(path) > maxLoggedPath {
		path = path[:maxLoggedPath]
	}
	attrs := []slog.Attr{
		slog.String("method", string(c.Method())),
		slog.String("route", c.FullPath()),
		slog.String("path", string(path)),
		slog.Int("status", c.Response.StatusCode()),
		slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
		slog.String("request_id", c.GetString(requestIDKey)),
		slog.String("remote", c.ClientIP()),
	}
	if m := merchantOf(c); m != "" {
		attrs = append(attrs, slog.String("merchant", m))
	}
	s.log.LogAttrs(ctx, slog.LevelInfo, "request", attrs...)
}
