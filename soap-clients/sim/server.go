package sim

import (
	"context"
	"crypto/subtle"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// server is one line's HTTP server.
type server struct {
	svc    *service
	cfg    *Config
	log    *slog.Logger
	wsdl   []byte
	faults atomic.Pointer[Faults]

	// calls counts SOAP calls that reached an operation, whatever happened
	// next (an injected failure included): what a caller's attempts cost.
	calls map[string]*atomic.Int64
	// requests counts every POST to the endpoint; rejected ones (bad
	// credentials, malformed requests) also count in their own counter.
	requests, authFailures, badRequests atomic.Int64
	injected                            [len(failureNames)]atomic.Int64
	streaming                           atomic.Int64

	http *http.Server
	ln   net.Listener
}

func newServer(svc *service, cfg *Config, wsdl []byte) *server {
	s := &server{
		svc:   svc,
		cfg:   cfg,
		log:   cfg.Logger.With("line", svc.line),
		wsdl:  wsdl,
		calls: make(map[string]*atomic.Int64, len(svc.ops)),
	}
	for name := range svc.ops {
		s.calls[name] = new(atomic.Int64)
	}
	s.faults.Store(&Faults{})
	return s
}

func (s *server) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+s.svc.path, s.serveSOAP)
	mux.HandleFunc("GET "+s.svc.path, s.serveWSDL)
	mux.HandleFunc("GET /_sim/faults", s.getFaults)
	mux.HandleFunc("POST /_sim/faults", s.postFaults)
	mux.HandleFunc("GET /_sim/stats", s.getStats)
	if s.cfg.TracerProvider == nil {
		return mux
	}
	return otelhttp.NewHandler(mux, s.svc.name,
		otelhttp.WithTracerProvider(s.cfg.TracerProvider),
		otelhttp.WithPropagators(s.cfg.Propagators),
	)
}

func (s *server) newHTTPServer(base context.Context) *http.Server {
	return &http.Server{
		Handler:           s.handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		// No WriteTimeout: injected latency and endless answers are meant to
		// outlast any sensible one; they end with the client or the Sim.
		IdleTimeout:    90 * time.Second,
		MaxHeaderBytes: 64 << 10,
		ErrorLog:       slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext:    func(net.Listener) context.Context { return base },
	}
}

func (s *server) serveWSDL(w http.ResponseWriter, r *http.Request) {
	if _, ok := r.URL.Query()["wsdl"]; !ok && !strings.EqualFold(r.URL.RawQuery, "wsdl") {
		http.Error(w, "this is a SOAP endpoint: POST a SOAP 1.1 request, or GET ?wsdl", http.StatusNotFound)
		return
	}
	writeXML(w, http.StatusOK, s.wsdl)
}

func (s *server) serveSOAP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	s.requests.Add(1)
	if !s.authorized(r) {
		s.authFailures.Add(1)
		w.Header().Set("WWW-Authenticate", `Basic realm="`+s.svc.name+`", charset="UTF-8"`)
		s.writeFault(w, authFault())
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxRequestBytes))
	if err != nil {
		s.badRequests.Add(1)
		if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
			f := clientFault("the request is larger than the limit of this service")
			f.status = http.StatusRequestEntityTooLarge
			s.writeFault(w, f)
		}
		return // otherwise the client went away mid-request
	}
	el, err := parseEnvelope(body)
	if err != nil {
		s.badRequests.Add(1)
		s.writeError(w, err)
		return
	}
	op, err := s.svc.lookup(el, soapAction(r))
	if err != nil {
		s.badRequests.Add(1)
		s.writeError(w, err)
		return
	}
	s.calls[op.name].Add(1)
	trace.SpanFromContext(ctx).SetAttributes(
		attribute.String("rpc.service", s.svc.name),
		attribute.String("rpc.method", op.name),
		attribute.String("soap.action", op.action),
	)

	f := *s.faults.Load()
	mode, delay := f.draw()
	if !sleep(ctx, delay) {
		gone(ctx, w) // the client gave up or the Sim is shutting down
		return
	}
	if mode != failNone && !f.ApplyBeforeFailure {
		s.fail(ctx, w, op.name, mode, f)
		return
	}
	resp, err := op.handle(el)
	if mode != failNone {
		s.fail(ctx, w, op.name, mode, f)
		return
	}
	if err != nil {
		s.log.DebugContext(ctx, "soap fault", "op", op.name, "err", err)
		s.writeError(w, err)
		return
	}
	out, err := encodeEnvelope(resp)
	if err != nil {
		s.log.ErrorContext(ctx, "encode answer", "op", op.name, "err", err)
		s.writeError(w, err)
		return
	}
	s.log.DebugContext(ctx, "soap call", "op", op.name)
	writeXML(w, http.StatusOK, out)
}

func (s *server) fail(ctx context.Context, w http.ResponseWriter, op string, mode failure, f Faults) {
	s.injected[mode].Add(1)
	s.log.DebugContext(ctx, "injected failure", "op", op, "mode", mode.String())
	switch mode {
	case failFault:
		sf := serverFault()
		if f.FaultStatusOK {
			sf.status = http.StatusOK
		}
		s.writeFault(w, sf)
	case failHTML:
		s.writeHTMLError(w)
	case failMalformed:
		s.writeMalformed(w, op)
	case failEndless:
		s.writeEndless(ctx, w, op)
	}
}

// writeError sends err as a soap:Fault: a *soapFault as it is, anything else
// as a soap:Server fault that does not reveal it.
func (s *server) writeError(w http.ResponseWriter, err error) {
	var sf *soapFault
	if !errors.As(err, &sf) {
		sf = &soapFault{code: codeServer, message: "internal error"}
	}
	if sf.status == 0 && s.faults.Load().FaultStatusOK {
		sf = &soapFault{code: sf.code, message: sf.message, detail: sf.detail, status: http.StatusOK}
	}
	s.writeFault(w, sf)
}

func (s *server) writeFault(w http.ResponseWriter, f *soapFault) {
	out, err := encodeFault(f)
	if err != nil {
		s.log.Error("encode fault", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	status := f.status
	if status == 0 {
		status = http.StatusInternalServerError
	}
	writeXML(w, status, out)
}

func (s *server) authorized(r *http.Request) bool {
	id, key, ok := r.BasicAuth()
	// Both comparisons always run, so timing does not tell which one failed.
	idOK := subtle.ConstantTimeCompare([]byte(id), []byte(s.cfg.PartnerID))
	keyOK := subtle.ConstantTimeCompare([]byte(key), []byte(s.cfg.PartnerKey))
	return ok && idOK&keyOK == 1
}

// soapAction returns the SOAPAction header without the quotes SOAP 1.1 puts
// around it (some stacks send it bare).
func soapAction(r *http.Request) string {
	v := strings.TrimSpace(r.Header.Get("SOAPAction"))
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		v = v[1 : len(v)-1]
	}
	return v
}

// sleep waits d unless ctx ends first; it reports whether d elapsed.
// statusClientClosedRequest is the status of a call the client gave up on before its
// answer (nginx's 499): the span and the access logs must not say 200 for an answer
// nobody got. A 4xx, so the server span is not an error: the call failed on the
// client's side.
const statusClientClosedRequest = 499

// gone records that the call ended without an answer because its context ended: the
// client hung up (or timed out), or the Sim is shutting down.
func gone(ctx context.Context, w http.ResponseWriter) {
	trace.SpanFromContext(ctx).AddEvent("client gone before the answer",
		trace.WithAttributes(attribute.String("error.type", context.Cause(ctx).Error())))
	w.WriteHeader(statusClientClosedRequest) // to nobody: it is for the span
}

func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
