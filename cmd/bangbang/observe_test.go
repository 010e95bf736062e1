package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/bangbang-im/bangbang/marketing/ratelimit"
	"github.com/bangbang-im/bangbang/tracing"
)

// A Redis call inside a traced request is a span that says what it did and carries no
// source paths of the build (code.filepath, code.function, code.lineno).
func TestRedisSpansCarryNoSourcePaths(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	rc := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379", DisableIdentity: true})
	defer rc.Close()
	if err := traceRedis(rc, tp); err != nil {
		t.Fatal(err)
	}
	ctx, parent := tp.Tracer("test").Start(context.Background(), "request")
	if err := rc.Ping(ctx).Err(); err != nil {
		t.Fatalf("ping: %v", err)
	}
	parent.End()
	var found bool
	for _, s := range rec.Ended() {
		if s.Name() == "request" {
			continue
		}
		found = true
		for _, kv := range s.Attributes() {
			if strings.HasPrefix(string(kv.Key), "code.") {
				t.Errorf("span %s carries %s=%s", s.Name(), kv.Key, kv.Value.Emit())
			}
		}
	}
	if !found {
		t.Fatal("the ping made no span")
	}
}

// A rate-limit check that finds Redis's script cache empty (after a restart or SCRIPT
// FLUSH) answers NOSCRIPT to EVALSHA and succeeds by EVAL: the action is healthy, so its
// trace must not be an error, and an unsampled one must not be kept as one.
func TestRedisScriptCacheMissIsNoError(t *testing.T) {
	ctx := context.Background()
	tr, err := tracing.Setup(ctx, tracing.Config{ChatSampleRatio: -1, Env: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tr.Shutdown(context.Background()) })
	tp := tr.Provider("edge")
	rc, err := newRedisClient("127.0.0.1:6379")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if err := traceRedis(rc, tp); err != nil {
		t.Fatal(err)
	}
	lim := ratelimit.NewRedis(rc, map[ratelimit.Class]ratelimit.Limit{ratelimit.ClassRead: {Rate: 100, Burst: 100, Period: time.Second}},
		ratelimit.Options{KeyPrefix: "bbtest:noscript:" + t.Name() + ":"})
	allow := func(ctx context.Context) {
		t.Helper()
		if err := rc.ScriptFlush(ctx).Err(); err != nil {
			t.Fatalf("script flush: %v", err)
		}
		d, err := lim.Allow(ctx, "m1", ratelimit.ClassRead)
		if err != nil || !d.Allowed {
			t.Fatalf("allow: %+v, %v", d, err)
		}
	}

	// A kept trace: the EVALSHA span says NOSCRIPT and is not an error.
	rctx, root := tp.Tracer("test").Start(ctx, "GET /v1/credits")
	allow(rctx)
	root.End()
	got, ok := tr.Store().Get(root.SpanContext().TraceID())
	if !ok {
		t.Fatal("the action's trace is not in the store")
	}
	var names []string
	var miss bool
	var walk func([]*tracing.Node)
	walk = func(ns []*tracing.Node) {
		for _, n := range ns {
			names = append(names, n.Name)
			if n.Status == "error" {
				t.Errorf("span %s is an error: %s", n.Name, n.StatusMessage)
			}
			if n.Attributes["db.response.status_code"] == "NOSCRIPT" {
				miss = true
			}
			walk(n.Children)
		}
	}
	walk(got.Spans)
	if !miss {
		t.Errorf("spans %v: want an EVALSHA marked db.response.status_code=NOSCRIPT", names)
	}
	if got.ErrorCount != 0 {
		t.Errorf("spans %v: %d errors in a healthy action", names, got.ErrorCount)
	}

	// An unsampled chat trace: nothing of it is kept.
	before := tr.Store().Stats().Traces
	cctx, chat := tp.Tracer("test").Start(ctx, "IM SEND", trace.WithAttributes(tracing.AttrTraffic.String(tracing.TrafficChat)))
	allow(cctx)
	chat.End()
	if chat.SpanContext().IsSampled() {
		t.Fatal("the chat root was sampled at ratio 0")
	}
	if n := tr.Store().Stats().Traces; n != before {
		t.Errorf("store holds %d traces after an unsampled healthy one, want %d: a cache miss was kept as an error", n, before)
	}
}
