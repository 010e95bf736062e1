package gateway

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/bangbang-im/bangbang/core-im/protocol"
	"github.com/bangbang-im/bangbang/gen/common"
	"github.com/bangbang-im/bangbang/gen/frame"
	"github.com/bangbang-im/bangbang/tracing"
)

// Observability of client requests: a server span per request frame (joining the trace
// context the client put in the frame), whose trace id the reply names, and a latency
// histogram per operation and outcome.

const instrumentationName = "github.com/bangbang-im/bangbang/core-im/gateway"

// request is a client request being handled: what its span and histogram need to know
// about the answer. The session's reader owns it, or, for a SEND, the send pipe once the
// reader handed the SEND over.
type request struct {
	op    protocol.Op
	start time.Time
	span  trace.Span       // nil without tracing
	code  common.ErrorCode // of the ERROR answered; 0 when none
}

// spanNames are the span names of the requests worth a span ("IM SEND"), made once;
// heartbeats and unknown ops have none.
var spanNames = func() map[protocol.Op]string {
	m := map[protocol.Op]string{}
	for _, op := range []protocol.Op{protocol.OpAuth, protocol.OpSend, protocol.OpSync, protocol.OpDeliverAck, protocol.OpRead} {
		m[op] = "IM " + op.String()
	}
	return m
}()

// begin starts the request of f: it returns the context logic calls run under and the
// request to end (end) once f is answered; nil, with nothing to end, when f has no span
// nor histogram. When a span starts, f's trace context becomes the span's, so every reply
// to f names the trace it belongs to (the client's, when it sent one). Without tracing
// nor metrics it costs nothing.
func (s *session) begin(f *protocol.Frame) (context.Context, *request) {
	g := s.g
	ctx := g.ctx
	name, ok := spanNames[f.Op]
	if !ok || (!g.tracing && g.metrics == nil) {
		return ctx, nil
	}
	r := &request{op: f.Op, start: time.Now()}
	if g.tracing {
		if f.HasTrace() {
			ctx = tracing.ContextWithFrameTrace(ctx, f.Trace)
		}
		attrs := []attribute.KeyValue{
			tracing.AttrTraffic.String(tracing.TrafficChat),
			attribute.String("bangbang.im.op", f.Op.String()),
			attribute.String("bangbang.conn", s.id),
		}
		if id := s.ident.Load(); id != nil {
			attrs = append(attrs, tracing.AttrUser.String(id.user), attribute.String("bangbang.device", id.device))
		}
		ctx, r.span = g.tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(attrs...))
		if tc := tracing.FrameTrace(ctx); tc != nil {
			f.Trace, f.Flags = *tc, f.Flags|protocol.FlagTrace
		}
	}
	return ctx, r
}

// end ends r (nil: nothing to end): its span, and its latency in the histogram.
func (s *session) end(r *request) {
	if r == nil {
		return
	}
	if r.span != nil {
		if r.code != 0 {
			r.span.SetAttributes(attribute.String("bangbang.im.error", r.code.String()))
			if serverFault(r.code) {
				r.span.SetStatus(codes.Error, r.code.String())
			}
		}
		r.span.End()
	}
	var sc trace.SpanContext
	if r.span != nil {
		sc = r.span.SpanContext()
	}
	s.g.metrics.observe(r.op, r.code, r.start, sc)
}

// observe records one request's latency and outcome, with sc's trace as its exemplar
// when sampled; a nil m records nothing.
func (m *Metrics) observe(op protocol.Op, code common.ErrorCode, start time.Time, sc trace.SpanContext) {
	if m == nil {
		return
	}
	outcome := "ok"
	if code != 0 {
		outcome = code.String()
	}
	tracing.ObserveSpan(sc, m.requests.WithLabelValues(op.String(), outcome), time.Since(start).Seconds())
}

// noteError records the ERROR answering req on the request the reader is handling.
func (s *session) noteError(req *protocol.Frame, e *frame.Error) {
	if req != nil {
		s.cur.note(e)
	}
}

// note records the ERROR answering r (nil: a request not observed).
func (r *request) note(e *frame.Error) {
	if r != nil {
		r.code = common.ErrorCode(e.Code)
	}
}

// serverFault tells the codes that mean the system failed, not the client: they make the
// span an error (and so kept, even in an unsampled trace).
func serverFault(c common.ErrorCode) bool {
	return c == common.ErrorCode_INTERNAL || c == common.ErrorCode_UNAVAILABLE
}

// Metrics are a gateway's Prometheus metrics.
type Metrics struct {
	requests *prometheus.HistogramVec // op, outcome
}

// newMetrics registers the gateway's metrics with reg: the request histogram, and a
// collector reading the gateway's counters at scrape time (see Stats), so the hot path
// pays nothing for them.
//
//	bangbang_gateway_request_duration_seconds{op, outcome}  histogram: AUTH, SEND, SYNC, READ, DELIVER_ACK; outcome ok or the ERROR code
//	bangbang_gateway_connections{state}                     gauge: open (all sessions), authenticated, upgrading (WebSocket handshake not finished, no session yet)
//	bangbang_gateway_connections_refused_total{reason}      counter: per_address_cap (closed at accept), upgrade_timeout (WebSocket handshake not complete in time), logins_in_flight (AUTH refused with a retry-after: MaxLoginsInFlight logins at logic)
//	bangbang_gateway_frames_received_total                  counter
//	bangbang_gateway_frames_sent_total                      counter
//	bangbang_gateway_frames_rate_limited_total              counter
//	bangbang_gateway_slow_consumers_total                   counter: connections closed for a full send queue
//	bangbang_gateway_floods_total                           counter: connections closed for flooding (sending on while refused, or while nothing more is read)
//	bangbang_gateway_push_connections_total{result}         counter: delivered, missing (not on this node), dropped (queue full), pending_auth
func newMetrics(reg prometheus.Registerer, g *Gateway) (*Metrics, error) {
	requests, err := tracing.Register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "bangbang_gateway_request_duration_seconds",
		Help:    "Time from a client request frame read to its answer queued, by operation and outcome.",
		Buckets: tracing.LatencyBuckets,
	}, []string{"op", "outcome"}))
	if err != nil {
		return nil, err
	}
	if err := reg.Register(statsCollector{g}); err != nil {
		return nil, err
	}
	return &Metrics{requests: requests}, nil
}

var (
	descConns       = prometheus.NewDesc("bangbang_gateway_connections", "Client connections open now; state authenticated counts those past AUTH, upgrading the WebSocket ones still in their HTTP handshake (not in open).", []string{"state"}, nil)
	descRefused     = prometheus.NewDesc("bangbang_gateway_connections_refused_total", "Client connections closed before they became sessions, by reason: per_address_cap, upgrade_timeout, logins_in_flight.", []string{"reason"}, nil)
	descFramesIn    = prometheus.NewDesc("bangbang_gateway_frames_received_total", "Frames read from clients.", nil, nil)
	descFramesOut   = prometheus.NewDesc("bangbang_gateway_frames_sent_total", "Frames written to clients.", nil, nil)
	descRateLimited = prometheus.NewDesc("bangbang_gateway_frames_rate_limited_total", "Client frames refused by the per-connection rate limit.", nil, nil)
	descSlow        = prometheus.NewDesc("bangbang_gateway_slow_consumers_total", "Connections closed because their send queue was full.", nil, nil)
	descFloods      = prometheus.NewDesc("bangbang_gateway_floods_total", "Connections closed for flooding: more frames refused by the rate limit and not yet due to be resent than the burst, or about 1 MiB sent on while none of it could be read.", nil, nil)
	descExpired     = prometheus.NewDesc("bangbang_gateway_tokens_expired_total", "Sessions closed because the token they logged in with expired (ERROR TOKEN_EXPIRED).", nil, nil)
	descPush        = prometheus.NewDesc("bangbang_gateway_push_connections_total", "Pushed frames by what became of them per connection.", []string{"result"}, nil)
)

// statsCollector exports a gateway's counters.
type statsCollector struct{ g *Gateway }

func (c statsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descConns, descRefused, descFramesIn, descFramesOut, descRateLimited, descSlow, descFloods, descExpired, descPush} {
		ch <- d
	}
}

func (c statsCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.g.Stats()
	ch <- prometheus.MustNewConstMetric(descConns, prometheus.GaugeValue, float64(st.Open), "open")
	ch <- prometheus.MustNewConstMetric(descConns, prometheus.GaugeValue, float64(st.Authenticated), "authenticated")
	ch <- prometheus.MustNewConstMetric(descConns, prometheus.GaugeValue, float64(st.Upgrading), "upgrading")
	ch <- prometheus.MustNewConstMetric(descRefused, prometheus.CounterValue, float64(st.RefusedAddrCap), "per_address_cap")
	ch <- prometheus.MustNewConstMetric(descRefused, prometheus.CounterValue, float64(st.UpgradeTimeouts), "upgrade_timeout")
	ch <- prometheus.MustNewConstMetric(descRefused, prometheus.CounterValue, float64(st.LoginsShed), "logins_in_flight")
	ch <- prometheus.MustNewConstMetric(descFramesIn, prometheus.CounterValue, float64(st.FramesIn))
	ch <- prometheus.MustNewConstMetric(descFramesOut, prometheus.CounterValue, float64(st.FramesOut))
	ch <- prometheus.MustNewConstMetric(descRateLimited, prometheus.CounterValue, float64(st.RateLimited))
	ch <- prometheus.MustNewConstMetric(descSlow, prometheus.CounterValue, float64(st.Dropped))
	ch <- prometheus.MustNewConstMetric(descFloods, prometheus.CounterValue, float64(st.Floods))
	ch <- prometheus.MustNewConstMetric(descExpired, prometheus.CounterValue, float64(st.TokensExpired))
	for _, p := range []struct {
		result string
		n      uint64
	}{{"delivered", st.PushDelivered}, {"missing", st.PushMissing}, {"dropped", st.PushDropped}, {"pending_auth", st.PushPendingAuth}} {
		ch <- prometheus.MustNewConstMetric(descPush, prometheus.CounterValue, float64(p.n), p.result)
	}
}
