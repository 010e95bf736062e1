package tracing

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"
)

// The route labels of a request without a pattern: its path is not a label, or any
// scanner would make series at will. A 405 is not told by its pattern either: Hertz finds
// the path in another method's tree but does not say which pattern matched it, and the
// same path may match different patterns under different methods.
const (
	unmatchedRoute        = "unmatched"          // no route matched the path (404)
	methodNotAllowedRoute = "method_not_allowed" // a route matched the path, not for this method (405)
)

// HTTPMetrics are the metrics of the Hertz servers (edge, admin):
//
//   - bangbang_http_requests_total{server, method, route, status}
//   - bangbang_http_request_duration_seconds{server, method, route}
//
// route is the registered pattern ("/v1/listings/:id/refresh"),
// "method_not_allowed" for a 405 (the server's HandleMethodNotAllowed option),
// or "unmatched" for a 404; method is the request's when standard, otherwise
// "other". The duration of a request in a sampled trace carries its trace id
// as an exemplar (see Observe; HertzServer gives the trace). A request Hertz
// refuses before any handler (a body over the server's limit) is not counted.
// A nil *HTTPMetrics records nothing. HTTPMetrics are safe for concurrent use.
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
		// Hertz sets a 405 before it runs the NoMethod chain, and only there: read here,
		// it is its routing decision, whatever status a NoMethod handler then answers.
		noMethod := c.Response.StatusCode() == http.StatusMethodNotAllowed
		c.Next(ctx)
		route := c.FullPath()
		switch {
		case route != "":
		case noMethod:
			route = methodNotAllowedRoute
		default:
			route = unmatchedRoute
		}
		method := methodLabel(c.Method())
		m.requests.WithLabelValues(server, method, route, strconv.Itoa(c.Response.StatusCode())).Inc()
		// HertzServer leaves the server span's context on c: ctx has not got it when that
		// middleware runs inside this one, as the servers wire them.
		sc, _ := c.Value(hertzSpanContextKey).(trace.SpanContext)
		ObserveSpan(sc, m.duration.WithLabelValues(server, method, route), time.Since(start).Seconds())
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
