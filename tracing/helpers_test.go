package tracing

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"
)

// env is a Config.Env reading from a map, so tests never touch the process environment.
func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

// setup builds a Tracing that the test shuts down at cleanup if it has not already.
func setup(t testing.TB, cfg Config) *Tracing {
	t.Helper()
	if cfg.Env == nil {
		cfg.Env = env(nil)
	}
	tr, err := Setup(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Setup: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := tr.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	return tr
}

// receiver collects what an OTLP endpoint inside the test was sent.
type receiver struct {
	mu       sync.Mutex
	requests []*coltracepb.ExportTraceServiceRequest
	headers  []map[string]string // one per request, lower-case keys
}

func (rc *receiver) record(req *coltracepb.ExportTraceServiceRequest, headers map[string]string) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.requests = append(rc.requests, req)
	rc.headers = append(rc.headers, headers)
}

// spans flattens every span received, each with the service.name of its resource.
func (rc *receiver) spans() []receivedSpan {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var out []receivedSpan
	for _, req := range rc.requests {
		for _, rs := range req.GetResourceSpans() {
			res := attrsOf(rs.GetResource().GetAttributes())
			for _, ss := range rs.GetScopeSpans() {
				for _, sp := range ss.GetSpans() {
					out = append(out, receivedSpan{span: sp, resource: res})
				}
			}
		}
	}
	return out
}

type receivedSpan struct {
	span     *tracepb.Span
	resource map[string]string
}

func attrsOf(kvs []*commonpb.KeyValue) map[string]string {
	m := make(map[string]string, len(kvs))
	for _, kv := range kvs {
		switch v := kv.GetValue().GetValue().(type) {
		case *commonpb.AnyValue_StringValue:
			m[kv.GetKey()] = v.StringValue
		default:
			m[kv.GetKey()] = kv.GetValue().String()
		}
	}
	return m
}

// httpReceiver is an OTLP/HTTP protobuf endpoint; its URL has no path, as
// OTEL_EXPORTER_OTLP_ENDPOINT expects.
func httpReceiver(t *testing.T) (*receiver, *httptest.Server) {
	t.Helper()
	rc := &receiver{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/v1/traces" {
			t.Errorf("receiver got %s %s", r.Method, r.URL.Path)
			http.Error(w, "unexpected", http.StatusNotFound)
			return
		}
		b, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("receiver read: %v", err)
			return
		}
		req := &coltracepb.ExportTraceServiceRequest{}
		if err := proto.Unmarshal(b, req); err != nil {
			t.Errorf("receiver decode: %v", err)
			http.Error(w, "bad", http.StatusBadRequest)
			return
		}
		h := make(map[string]string)
		for k := range r.Header {
			h[http.CanonicalHeaderKey(k)] = r.Header.Get(k)
		}
		rc.record(req, h)
		out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
		w.Header().Set("Content-Type", "application/x-protobuf")
		_, _ = w.Write(out)
	}))
	t.Cleanup(srv.Close)
	return rc, srv
}

// grpcReceiver is an OTLP/gRPC endpoint on a loopback port; it returns the address.
func grpcReceiver(t *testing.T) (*receiver, string) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rc := &receiver{}
	srv := grpc.NewServer()
	coltracepb.RegisterTraceServiceServer(srv, grpcTraceService{rc: rc})
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(lis)
	}()
	t.Cleanup(func() {
		srv.Stop()
		<-done
	})
	return rc, lis.Addr().String()
}

type grpcTraceService struct {
	coltracepb.UnimplementedTraceServiceServer
	rc *receiver
}

func (s grpcTraceService) Export(ctx context.Context, req *coltracepb.ExportTraceServiceRequest) (*coltracepb.ExportTraceServiceResponse, error) {
	h := make(map[string]string)
	md, _ := metadata.FromIncomingContext(ctx)
	for k, v := range md {
		if len(v) > 0 {
			h[k] = v[0]
		}
	}
	s.rc.record(req, h)
	return &coltracepb.ExportTraceServiceResponse{}, nil
}
