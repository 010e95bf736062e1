package store

import (
	"context"
	"errors"
	"testing"

	"github.com/exaring/otelpgx"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// TestInstrumentedStore runs calls inside and outside a trace against each backend and
// checks the spans (names, parents, the batch event, pgx queries beneath on PostgreSQL)
// and the latency histogram's series.
func TestInstrumentedStore(t *testing.T) {
	for _, b := range []backend{sqliteBackend(), postgresBackend()} {
		t.Run(b.name, func(t *testing.T) {
			rec := tracetest.NewSpanRecorder()
			tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
			reg := prometheus.NewRegistry()
			m, err := NewMetrics(reg)
			if err != nil {
				t.Fatal(err)
			}
			s := b.open(t, Options{TracerProvider: tp, Metrics: m, QueryTracer: otelpgx.NewTracer(otelpgx.WithTracerProvider(tp))})
			ctx := context.Background()
			for _, id := range []string{"ann", "bob"} {
				if err := s.PutUser(ctx, User{ID: id, Kind: UserCustomer, PasswordHash: []byte("x")}); err != nil {
					t.Fatal(err)
				}
			}
			rec.Reset() // user setup ran outside any trace: nothing to see anyway

			traced, parent := tp.Tracer("test").Start(ctx, "request")
			if _, err := s.Append(traced, chat("ann", "bob", "c1")); err != nil {
				t.Fatal(err)
			}
			if _, err := s.GetUser(traced, "nobody"); !errors.Is(err, ErrNotFound) {
				t.Fatalf("GetUser(nobody) = %v, want ErrNotFound", err)
			}
			parent.End()
			if _, err := s.MaxSeq(ctx, "bob"); err != nil { // outside a trace: no span
				t.Fatal(err)
			}

			spans := rec.Ended()
			byName := map[string]sdktrace.ReadOnlySpan{}
			for _, sp := range spans {
				byName[sp.Name()] = sp
			}
			root := byName["request"]
			for _, name := range []string{"store.Append", "store.GetUser"} {
				sp, ok := byName[name]
				if !ok {
					t.Fatalf("no %s span among %v", name, names(spans))
				}
				if sp.Parent().SpanID() != root.SpanContext().SpanID() {
					t.Errorf("%s parent = %s, want the request span", name, sp.Parent().SpanID())
				}
			}
			if _, ok := byName["store.MaxSeq"]; ok {
				t.Error("a call outside any trace made a span")
			}
			appendSpan := byName["store.Append"]
			if ev := appendSpan.Events(); len(ev) != 1 || ev[0].Name != "store.batch_committed" {
				t.Errorf("Append events = %v, want one store.batch_committed", ev)
			} else if got := attr(ev[0].Attributes, "bangbang.store.batch_size"); got != "1" {
				t.Errorf("batch_size = %s, want 1", got)
			}
			if got := attr(byName["store.GetUser"].Attributes(), "bangbang.outcome"); got != "not_found" {
				t.Errorf("GetUser outcome = %q, want not_found", got)
			}
			queries := 0
			for _, sp := range spans {
				if sp.Parent().SpanID() == byName["store.GetUser"].SpanContext().SpanID() {
					queries++
				}
			}
			if b.name == "postgres" && queries == 0 {
				t.Error("no pgx query span under store.GetUser")
			}

			backend := backendSQLite
			if b.name == "postgres" {
				backend = backendPostgres
			}
			for _, c := range []struct {
				op, outcome string
				want        int
			}{{"Append", "ok", 1}, {"GetUser", "not_found", 1}, {"MaxSeq", "ok", 1}, {"PutUser", "ok", 2}} {
				h := m.ops.WithLabelValues(backend, c.op, c.outcome).(prometheus.Histogram)
				if got := histCount(t, h); got != c.want {
					t.Errorf("%s/%s observations = %d, want %d", c.op, c.outcome, got, c.want)
				}
			}
			if n := testutil.CollectAndCount(m.batch); n != 1 {
				t.Errorf("batch size series = %d, want 1", n)
			}
		})
	}
}

func names(spans []sdktrace.ReadOnlySpan) []string {
	var n []string
	for _, s := range spans {
		n = append(n, s.Name())
	}
	return n
}

func attr(kvs []attribute.KeyValue, key string) string {
	for _, kv := range kvs {
		if string(kv.Key) == key {
			return kv.Value.Emit()
		}
	}
	return ""
}

func histCount(t *testing.T, h prometheus.Histogram) int {
	t.Helper()
	var m dto.Metric
	if err := h.Write(&m); err != nil {
		t.Fatal(err)
	}
	return int(m.GetHistogram().GetSampleCount())
}
