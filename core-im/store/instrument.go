package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// attrUser is the user a call acts for: the key the trace store's user filter matches
// (tracing.AttrUser, which this layer does not import).
const attrUser attribute.Key = "bangbang.user"

// latencyBuckets, in seconds: 250µs to about 8s, doubling.
var latencyBuckets = prometheus.ExponentialBuckets(0.00025, 2, 16)

// Metrics are the store's Prometheus metrics; a nil *Metrics records nothing.
type Metrics struct {
	ops   *prometheus.HistogramVec // backend, operation, outcome
	batch *prometheus.HistogramVec // backend
}

// NewMetrics registers the store metrics with reg:
//
//	bangbang_store_operation_duration_seconds{backend, operation, outcome}  histogram
//	bangbang_store_append_batch_size{backend}                               histogram
//
// outcome is ok, not_found (a lookup of something absent), invalid (bad input),
// canceled (the caller gave up) or error.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		ops: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "bangbang_store_operation_duration_seconds",
			Help:    "Time of one message-store call, as its caller waits for it (an Append includes its group-commit wait).",
			Buckets: latencyBuckets,
		}, []string{"backend", "operation", "outcome"}),
		batch: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "bangbang_store_append_batch_size",
			Help:    "Appends written by one group-commit transaction.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 10),
		}, []string{"backend"}),
	}
	for _, c := range []prometheus.Collector{m.ops, m.batch} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("store metrics: %w", err)
		}
	}
	return m, nil
}

func (m *Metrics) observeBatch(backend string, n int) {
	if m != nil {
		m.batch.WithLabelValues(backend).Observe(float64(n))
	}
}

// instrumented wraps a backend with a span per call made inside a trace (a call outside
// any, such as a background job's, makes none) and the operation histogram.
type instrumented struct {
	Store
	backend string
	tracer  trace.Tracer
	metrics *Metrics
}

// instrument wraps s when opt asks for spans or metrics.
func instrument(s Store, backend string, opt Options) Store {
	if opt.TracerProvider == nil && opt.Metrics == nil {
		return s
	}
	in := &instrumented{Store: s, backend: backend, metrics: opt.Metrics}
	if opt.TracerProvider != nil {
		in.tracer = opt.TracerProvider.Tracer("github.com/bangbang-im/bangbang/core-im/store")
	}
	return in
}

// call runs one operation under its span and timer. The span's context is what the
// committer adds its batch event to.
func (s *instrumented) call(ctx context.Context, op string, attrs []attribute.KeyValue, f func(context.Context) error) {
	start := time.Now()
	var span trace.Span
	if s.tracer != nil && trace.SpanContextFromContext(ctx).IsValid() {
		ctx, span = s.tracer.Start(ctx, "store."+op, trace.WithSpanKind(trace.SpanKindClient),
			trace.WithAttributes(append(attrs,
				attribute.String("db.system.name", s.backend),
				attribute.String("db.operation.name", op))...))
	}
	err := f(ctx)
	outcome := outcomeOf(err)
	if span != nil {
		if outcome == "error" {
			span.RecordError(err)
			span.SetStatus(codes.Error, err.Error())
		} else if outcome != "ok" {
			span.SetAttributes(attribute.String("bangbang.outcome", outcome))
		}
		span.End()
	}
	if s.metrics != nil {
		observeLatency(ctx, s.metrics.ops.WithLabelValues(s.backend, op, outcome), time.Since(start).Seconds())
	}
}

// observeLatency records v in obs, with an exemplar naming the trace of ctx's span when
// that span is sampled, so a slow bucket links to a trace. It is tracing.Observe, which
// this layer does not import.
func observeLatency(ctx context.Context, obs prometheus.Observer, v float64) {
	sc := trace.SpanContextFromContext(ctx)
	if eo, ok := obs.(prometheus.ExemplarObserver); ok && sc.IsValid() && sc.IsSampled() {
		eo.ObserveWithExemplar(v, prometheus.Labels{"trace_id": sc.TraceID().String()})
		return
	}
	obs.Observe(v)
}

func outcomeOf(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, ErrNotFound):
		return "not_found"
	case errors.Is(err, ErrInvalid):
		return "invalid"
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return "canceled"
	default:
		return "error"
	}
}

func userAttr(id string) []attribute.KeyValue {
	return []attribute.KeyValue{attrUser.String(id)}
}

// batchAttr describes a call acting for many users at once: no one user to name.
func batchAttr(n int) []attribute.KeyValue {
	return []attribute.KeyValue{attribute.Int("bangbang.store.items", n)}
}

func (s *instrumented) Append(ctx context.Context, m NewMessage) (a Appended, err error) {
	s.call(ctx, "Append", []attribute.KeyValue{
		attrUser.String(m.From),
		attribute.String("bangbang.conv", m.ConvID),
	}, func(ctx context.Context) error {
		a, err = s.Store.Append(ctx, m)
		return err
	})
	return a, err
}

func (s *instrumented) AppendBatch(ctx context.Context, ms []NewMessage) (rs []AppendResult) {
	s.call(ctx, "AppendBatch", batchAttr(len(ms)), func(ctx context.Context) error {
		rs = s.Store.AppendBatch(ctx, ms)
		for _, r := range rs {
			if r.Err != nil {
				return r.Err
			}
		}
		return nil
	})
	return rs
}

func (s *instrumented) Sync(ctx context.Context, userID string, after int64, limit int) (msgs []InboxMessage, more bool, err error) {
	s.call(ctx, "Sync", userAttr(userID), func(ctx context.Context) error {
		msgs, more, err = s.Store.Sync(ctx, userID, after, limit)
		return err
	})
	return msgs, more, err
}

func (s *instrumented) MaxSeq(ctx context.Context, userID string) (seq int64, err error) {
	s.call(ctx, "MaxSeq", userAttr(userID), func(ctx context.Context) error {
		seq, err = s.Store.MaxSeq(ctx, userID)
		return err
	})
	return seq, err
}

func (s *instrumented) AckDelivered(ctx context.Context, userID, deviceID string, seq int64) (acked int64, err error) {
	s.call(ctx, "AckDelivered", userAttr(userID), func(ctx context.Context) error {
		acked, err = s.Store.AckDelivered(ctx, userID, deviceID, seq)
		return err
	})
	return acked, err
}

func (s *instrumented) DeliveredSeq(ctx context.Context, userID, deviceID string) (seq int64, err error) {
	s.call(ctx, "DeliveredSeq", userAttr(userID), func(ctx context.Context) error {
		seq, err = s.Store.DeliveredSeq(ctx, userID, deviceID)
		return err
	})
	return seq, err
}

func (s *instrumented) MarkRead(ctx context.Context, userID, convID string, seq int64) (read int64, err error) {
	s.call(ctx, "MarkRead", userAttr(userID), func(ctx context.Context) error {
		read, err = s.Store.MarkRead(ctx, userID, convID, seq)
		return err
	})
	return read, err
}

func (s *instrumented) ReadSeq(ctx context.Context, userID, convID string) (seq int64, err error) {
	s.call(ctx, "ReadSeq", userAttr(userID), func(ctx context.Context) error {
		seq, err = s.Store.ReadSeq(ctx, userID, convID)
		return err
	})
	return seq, err
}

func (s *instrumented) Receipts(ctx context.Context, qs []ReceiptQuery) (rs []Receipt, err error) {
	s.call(ctx, "Receipts", batchAttr(len(qs)), func(ctx context.Context) error {
		rs, err = s.Store.Receipts(ctx, qs)
		return err
	})
	return rs, err
}

func (s *instrumented) PutUser(ctx context.Context, u User) (err error) {
	s.call(ctx, "PutUser", userAttr(u.ID), func(ctx context.Context) error {
		err = s.Store.PutUser(ctx, u)
		return err
	})
	return err
}

func (s *instrumented) PutUserIfAbsent(ctx context.Context, u User) (created bool, err error) {
	s.call(ctx, "PutUserIfAbsent", userAttr(u.ID), func(ctx context.Context) error {
		created, err = s.Store.PutUserIfAbsent(ctx, u)
		return err
	})
	return created, err
}

func (s *instrumented) PutUsersIfAbsent(ctx context.Context, us []User) (created int, err error) {
	s.call(ctx, "PutUsersIfAbsent", batchAttr(len(us)), func(ctx context.Context) error {
		created, err = s.Store.PutUsersIfAbsent(ctx, us)
		return err
	})
	return created, err
}

func (s *instrumented) MissingUsers(ctx context.Context, ids []string) (missing []string, err error) {
	s.call(ctx, "MissingUsers", batchAttr(len(ids)), func(ctx context.Context) error {
		missing, err = s.Store.MissingUsers(ctx, ids)
		return err
	})
	return missing, err
}

func (s *instrumented) RevokeTokens(ctx context.Context, user, jti string, until time.Time) (err error) {
	s.call(ctx, "RevokeTokens", userAttr(user), func(ctx context.Context) error {
		err = s.Store.RevokeTokens(ctx, user, jti, until)
		return err
	})
	return err
}

func (s *instrumented) TokenRevoked(ctx context.Context, user, jti string, issued time.Time) (revoked bool, err error) {
	s.call(ctx, "TokenRevoked", userAttr(user), func(ctx context.Context) error {
		revoked, err = s.Store.TokenRevoked(ctx, user, jti, issued)
		return err
	})
	return revoked, err
}

func (s *instrumented) GetUser(ctx context.Context, id string) (u User, err error) {
	s.call(ctx, "GetUser", userAttr(id), func(ctx context.Context) error {
		u, err = s.Store.GetUser(ctx, id)
		return err
	})
	return u, err
}
