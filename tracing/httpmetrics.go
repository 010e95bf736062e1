package tracing

import (
	"context"
	"strconv"
	"time"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/prometheus/client_golang/prometheus"
)

// unmatchedRoute is the route label of a request no route matched (404,
// 405): its path is not a label, or any scanner would make series at will.
const unmatchedRoute = "unmatched"

// HTTPMetrics are the metrics of the Hertz servers (edge, admin):
//
//   - bangbang_http_requests_total{server, method, route, status}
//   - bangbang_http_request_duration_seconds{server, method, route}
//
// route is the registered pattern ("/v1/listings/:id/refresh"), or
// "unmatched" for a 404 or 405; method is the request's when standard,
// otherwise "other". A request Hertz refuses before any handler (a body over
// the server's limit) is not counted. A nil *HTTPMetrics records nothing.
// HTTPMetrics are safe for concurrent use.
type HTTPMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// NewHTTPMetrics registers the metrics with reg. When they are already
// registered there (the other server of the process), it uses those: the
// server label tells them apart. A nil reg returns nil: no metrics.
func NewHTTPMetrics(reg prometheus.Registerer) (*HTTPMetrics, error) {
	if reg == nil {
		return nil, nil
	}
	m := &HTTPMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bangbang_http_requests_total",
			Help: "HTTP requests answered, by server, method, route pattern and status.",
		}, []string{"server", "method", "route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "bangbang_http_request_duration_seconds",
			Help:    "Time to handle an HTTP request, by server, method and route pattern.",
			Buckets: LatencyBuckets,
		}, []string{"server", "method", "route"}),
	}
	var err error
	if m.requests, err = Register(reg, m.requests); err != nil {
		return nil, err
	}
	if m.duration, err = Register(reg, m.duration); err != nil {
		return nil, err
	}
	return m, nil
}

// Hertz returns a middleware recording every request of server once its
// handlers are done. On a nil m it only calls the next handler.
func (m *HTTPMetrics) Hertz(server string) app.HandlerFunc {
	if m == nil {
		return func(ctx context.Context, c *app.RequestContext) { c.Next(ctx) }
	}
	return func(ctx context.Context, c *app.RequestContext) {
		start := time.Now()
		c.Next(ctx)
		route := c.FullPath()
		if route == "" {
			route = unmatchedRoute
		}
		method := methodLabel(c.Method())
		m.requests.WithLabelValues(server, method, route, strconv.Itoa(c.Response.StatusCode())).Inc()
		m.duration.WithLabelValues(server, method, route).Observe(time.Since(start).Seconds())
	}
}

// methodLabel keeps the method label to the standard methods: a client may
// send any token as a method.
func methodLabel(method []byte) string {
	switch string(method) {
	case "GET":
		return "GET"
	case "HEAD":
		return "HEAD"
	case "POST":
		return "POST"
	case "PUT":
		return "PUT"
	case "PATCH":
		return "PATCH"
	case "DELETE":
		return "DELETE"
	case "OPTIONS":
		return "OPTIONS"
	case "CONNECT":
		return "CONNECT"
	case "TRACE":
		return "TRACE"
	}
	return "other"
}
