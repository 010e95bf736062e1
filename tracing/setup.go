package tracing

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// Tracing is a process's tracing: its providers, span pipeline and embedded store.
type Tracing struct {
	logger     *slog.Logger
	resource   *resource.Resource
	sampler    sdktrace.Sampler
	pipeline   *pipeline
	store      *Store                 // nil when disabled
	batch      sdktrace.SpanProcessor // nil without OTLP
	stats      *exportStats           // what the OTLP exporter did (Collector)
	propagator propagation.TextMapPropagator

	disabled bool // OTEL_SDK_DISABLED=true: every provider is a no-op

	mu        sync.Mutex
	providers map[string]*sdktrace.TracerProvider
	closed    bool

	shutdownOnce sync.Once
	shutdownErr  error
}

// Setup builds the process's tracing from cfg and the OTEL_* variables (see doc.go).
// The caller owns the result and calls Shutdown before the process exits.
func Setup(ctx context.Context, cfg Config) (*Tracing, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("tracing setup: %w", err)
	}
	t := &Tracing{
		logger:     cfg.Logger,
		sampler:    newSampler(cfg.ChatSampleRatio, cfg.ReadSampleRatio, cfg.DropUnsampled),
		pipeline:   &pipeline{},
		propagator: propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}),
		providers:  make(map[string]*sdktrace.TracerProvider),
		stats:      &exportStats{},
	}
	logErrors(cfg.Logger)
	if strings.EqualFold(cfg.env("OTEL_SDK_DISABLED"), "true") {
		// As the specification says: the SDK is off, every span a no-op. The store stays,
		// empty but for what other processes export to it.
		t.disabled = true
	}
	if s, err := samplerFromEnv(cfg); err != nil {
		return nil, fmt.Errorf("tracing setup: %w", err)
	} else if s != nil {
		t.sampler = s
	}
	if t.resource, err = processResource(ctx, cfg); err != nil {
		return nil, fmt.Errorf("tracing setup: %w", err)
	}
	if cfg.StoreBytes > 0 {
		t.store = NewStore(cfg.StoreBytes)
		t.pipeline.sinks = append(t.pipeline.sinks, t.store)
	}
	otlp, ok, err := otlpFromEnv(cfg)
	if err != nil {
		return nil, fmt.Errorf("tracing setup: %w", err)
	}
	if ok {
		exp, err := newOTLPExporter(ctx, otlp)
		if err != nil {
			return nil, fmt.Errorf("tracing setup: otlp exporter: %w", err)
		}
		queue, batch := bspSizes(cfg.Env)
		t.batch = sdktrace.NewBatchSpanProcessor(countingExporter{exp, t.stats},
			sdktrace.WithMaxQueueSize(queue), sdktrace.WithMaxExportBatchSize(batch))
		t.pipeline.sinks = append(t.pipeline.sinks, queueBound{t.batch, int64(queue), t.stats})
	}
	cfg.Logger.Info("tracing ready",
		"process", cfg.Process,
		"disabled", t.disabled,
		"sampler", t.sampler.Description(),
		"store_bytes", max(cfg.StoreBytes, 0),
		"otlp_protocol", otlp.protocol,
		"otlp_endpoint", otlp.endpoint)
	return t, nil
}

// Provider returns the tracer provider of component (service.name), creating it on
// first use. Every provider of t shares its sampler and span processors. After Shutdown
// it returns a provider whose spans go nowhere.
func (t *Tracing) Provider(component string) trace.TracerProvider {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed || t.disabled {
		return noop.NewTracerProvider()
	}
	if p, ok := t.providers[component]; ok {
		return p
	}
	p := sdktrace.NewTracerProvider(
		sdktrace.WithResource(componentResource(t.resource, component)),
		sdktrace.WithSampler(t.sampler),
		sdktrace.WithIDGenerator(idGenerator{}),
		sdktrace.WithSpanProcessor(t.pipeline),
	)
	t.providers[component] = p
	return p
}

// Propagator is W3C tracecontext plus baggage, for HTTP headers and Kitex metadata.
func (t *Tracing) Propagator() propagation.TextMapPropagator { return t.propagator }

// Store is the embedded trace store, nil when Config.StoreBytes is negative.
func (t *Tracing) Store() *Store { return t.store }

// ForceFlush exports every span ended so far.
func (t *Tracing) ForceFlush(ctx context.Context) error {
	if err := t.pipeline.ForceFlush(ctx); err != nil {
		return fmt.Errorf("tracing flush: %w", err)
	}
	return nil
}

// Shutdown stops the providers, then flushes and stops the exporter, within ctx. Only
// the first call does anything; later ones return its result.
func (t *Tracing) Shutdown(ctx context.Context) error {
	t.shutdownOnce.Do(func() {
		t.mu.Lock()
		t.closed = true
		providers := t.providers
		t.providers = nil
		t.mu.Unlock()
		var err error
		// Providers first, so no span ends into a stopped exporter; their Shutdown only
		// reaches pipeline.Shutdown, which leaves the shared sinks alone.
		for _, p := range providers {
			err = errors.Join(err, p.Shutdown(ctx))
		}
		if t.batch != nil {
			err = errors.Join(err, t.batch.Shutdown(ctx))
		}
		if err != nil {
			t.shutdownErr = fmt.Errorf("tracing shutdown: %w", err)
		}
	})
	return t.shutdownErr
}

// bspSizes reads the batch processor's queue and batch sizes as the SDK does
// (OTEL_BSP_MAX_QUEUE_SIZE, default 2048; OTEL_BSP_MAX_EXPORT_BATCH_SIZE, default 512, at
// most the queue), through env, so that queueBound knows the queue's size.
func bspSizes(env func(string) string) (queue, batch int) {
	queue, batch = 2048, 512
	if n, err := strconv.Atoi(env("OTEL_BSP_MAX_QUEUE_SIZE")); err == nil && n > 0 {
		queue = n
	}
	if n, err := strconv.Atoi(env("OTEL_BSP_MAX_EXPORT_BATCH_SIZE")); err == nil && n > 0 {
		batch = n
	}
	return queue, min(batch, queue)
}
