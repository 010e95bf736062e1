package logic_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/cloudwego/kitex/client"
	"github.com/cloudwego/kitex/pkg/transmeta"
	"github.com/cloudwego/kitex/server"
	"github.com/cloudwego/kitex/transport"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	gatewaygen "github.com/bangbang-im/bangbang/gen/gateway"
	"github.com/bangbang-im/bangbang/gen/gateway/gatewayservice"
	"github.com/bangbang-im/bangbang/tracing"
)

// seen records the span context each Deliver was served under.
type seen struct{ got chan trace.SpanContext }

func (s *seen) Deliver(ctx context.Context, _ *gatewaygen.DeliverRequest) (*gatewaygen.DeliverResponse, error) {
	s.got <- trace.SpanContextFromContext(ctx)
	return &gatewaygen.DeliverResponse{}, nil
}

func (s *seen) Kick(context.Context, *gatewaygen.KickRequest) (*gatewaygen.KickResponse, error) {
	return &gatewaygen.KickResponse{}, nil
}

func (s *seen) Drain(context.Context, *gatewaygen.DrainRequest) (*gatewaygen.DrainResponse, error) {
	return &gatewaygen.DrainResponse{}, nil
}

// TestKitexCarriesTraceContext (tracing.KitexClient and KitexServer; here for the goleak
// allowances Kitex needs) runs a real Kitex server and client over loopback with the
// middlewares: a call inside a trace is a client span, then a server span in the same
// trace, and the handler runs under the server span; a call outside any trace makes no
// span on either side.
func TestKitexCarriesTraceContext(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	prop := propagation.TraceContext{}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr()
	ln.Close()
	h := &seen{got: make(chan trace.SpanContext, 1)}
	srv := gatewayservice.NewServer(h, server.WithServiceAddr(addr), server.WithMetaHandler(transmeta.ServerTTHeaderHandler),
		server.WithMiddleware(tracing.KitexServer(tp, prop)), server.WithExitWaitTime(0))
	go func() { _ = srv.Run() }()
	t.Cleanup(func() { _ = srv.Stop() })
	cl, err := gatewayservice.NewClient("gateway", client.WithHostPorts(addr.String()),
		client.WithTransportProtocol(transport.TTHeader), client.WithMetaHandler(transmeta.ClientTTHeaderHandler),
		client.WithMiddleware(tracing.KitexClient(tp, prop)), client.WithRPCTimeout(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	// The server may still be binding: the first call retries until it answers.
	deliver := func(ctx context.Context) trace.SpanContext {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			_, err := cl.Deliver(ctx, &gatewaygen.DeliverRequest{})
			if err == nil {
				return <-h.got
			}
			if time.Now().After(deadline) {
				t.Fatalf("deliver: %v", err)
			}
			time.Sleep(10 * time.Millisecond) // polling for the listener, not synchronising
		}
	}

	untraced := deliver(context.Background())
	if untraced.IsValid() || len(rec.Ended()) != 0 {
		t.Fatalf("a call outside any trace was traced: handler ctx %v, %d spans", untraced, len(rec.Ended()))
	}

	ctx, parent := tp.Tracer("test").Start(context.Background(), "request")
	served := deliver(ctx)
	parent.End()
	spans := map[string]sdktrace.ReadOnlySpan{}
	for _, s := range rec.Ended() {
		spans[s.SpanKind().String()+" "+s.Name()] = s
	}
	cs, ok := spans["client GatewayService/Deliver"]
	if !ok {
		t.Fatalf("no client span: %v", spans)
	}
	ss, ok := spans["server GatewayService/Deliver"]
	if !ok {
		t.Fatalf("no server span: %v", spans)
	}
	if cs.Parent().SpanID() != parent.SpanContext().SpanID() {
		t.Error("client span is not the request's child")
	}
	if ss.Parent().SpanID() != cs.SpanContext().SpanID() || !ss.Parent().IsRemote() {
		t.Errorf("server span parent = %v, want the client span, remote", ss.Parent())
	}
	if ss.SpanContext().TraceID() != parent.SpanContext().TraceID() {
		t.Error("server span in another trace")
	}
	if served.SpanID() != ss.SpanContext().SpanID() {
		t.Error("the handler did not run under the server span")
	}
	for _, s := range []sdktrace.ReadOnlySpan{cs, ss} {
		attrs := map[string]string{}
		for _, kv := range s.Attributes() {
			attrs[string(kv.Key)] = kv.Value.Emit()
		}
		if attrs["rpc.system"] != "kitex" || attrs["rpc.service"] != "GatewayService" || attrs["rpc.method"] != "Deliver" {
			t.Errorf("%s attributes = %v", s.Name(), attrs)
		}
		// The client knows the node only once the balancer has picked it; the server, the
		// caller's address from the connection.
		if s == cs && attrs["server.address"] != addr.String() {
			t.Errorf("client span server.address = %q, want %s", attrs["server.address"], addr)
		}
		if s == ss && attrs["client.address"] == "" {
			t.Errorf("server span has no client.address: %v", attrs)
		}
	}
}
