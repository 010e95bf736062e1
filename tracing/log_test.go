package tracing

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"
)

func TestLogHandlerAddsIDs(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(LogHandler(slog.NewJSONHandler(&buf, nil))).With("component", "logic")
	tr := setup(t, Config{})
	ctx, span := tr.Provider("logic").Tracer("test").Start(context.Background(), "Send")
	defer span.End()

	line := func(log func()) map[string]any {
		t.Helper()
		buf.Reset()
		log()
		var m map[string]any
		if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
			t.Fatalf("%v in %s", err, buf.String())
		}
		return m
	}
	m := line(func() { logger.InfoContext(ctx, "message stored", "seq", 3) })
	if m[LogTraceID] != span.SpanContext().TraceID().String() || m[LogSpanID] != span.SpanContext().SpanID().String() {
		t.Errorf("line %v lacks the span's ids", m)
	}
	if m["component"] != "logic" || m["seq"] != float64(3) {
		t.Errorf("line %v lost its own attributes", m)
	}
	m = line(func() { logger.InfoContext(context.Background(), "no request") })
	if _, ok := m[LogTraceID]; ok {
		t.Errorf("line %v has a trace id outside any span", m)
	}
	if !logger.Handler().Enabled(ctx, slog.LevelInfo) || logger.Handler().Enabled(ctx, slog.LevelDebug) {
		t.Error("Enabled does not follow the wrapped handler")
	}
	m = line(func() { logger.WithGroup("req").InfoContext(ctx, "grouped") })
	if g, _ := m["req"].(map[string]any); g[LogTraceID] != span.SpanContext().TraceID().String() {
		t.Errorf("line %v: want the ids inside the open group", m)
	}
}
