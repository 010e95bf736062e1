package main

import (
	"context"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
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
