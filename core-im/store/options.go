package store

import (
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"go.opentelemetry.io/otel/trace"
)

// Options tune a Store. The zero value is ready to use.
type Options struct {
	// BatchMax is the most Append requests written in one transaction; 0 means 256.
	BatchMax int
	// BatchWait is how long the committer lingers after the first queued request
	// for more to arrive before writing; 0 means no wait: commit what is queued.
	// Under load batches fill while the previous commit runs, so 0 is usually best.
	BatchWait time.Duration
	// Logger receives batch failures and fallbacks; nil means discard.
	Logger *slog.Logger
	// TracerProvider, when set, gives every call made inside a traced request a span
	// ("store.Append", ...), and records on an Append's span when its group commit wrote
	// it. Calls outside a trace make none.
	TracerProvider trace.TracerProvider
	// QueryTracer, when set, traces PostgreSQL statements (otelpgx). It sees every
	// statement, the committer's batch transactions and migrations included, which run
	// outside any trace: give it a provider that starts spans only under a parent
	// (tracing.ChildOnly), or each batch becomes a trace of its own.
	QueryTracer pgx.QueryTracer
	// Metrics, when set, records call latencies and batch sizes (see NewMetrics).
	Metrics *Metrics
}

const defaultBatchMax = 256

// batchTimeout bounds one batch transaction so a stuck database cannot hold
// callers (and Close) forever.
const batchTimeout = 30 * time.Second

func (o Options) withDefaults() Options {
	if o.BatchMax <= 0 {
		o.BatchMax = defaultBatchMax
	}
	if o.BatchWait < 0 {
		o.BatchWait = 0
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}
