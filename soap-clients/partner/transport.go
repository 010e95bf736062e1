package partner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/bangbang-im/bangbang/tracing"
)

// attempt is what the transport learns about one HTTP exchange, for Do to
// classify after the generated client returns. Do puts it in the context of
// each attempt; the generated client passes that context to the request.
type attempt struct {
	op     string
	status int    // 0: no answer arrived (in full)
	fault  *Fault // the answer is a soap:Fault, or the credentials were refused
	bad    error  // the answer is unusable (ErrBadResponse)
}

type attemptKey struct{}

func attemptFrom(ctx context.Context) *attempt {
	a, _ := ctx.Value(attemptKey{}).(*attempt)
	return a
}

// errTooLarge is wrapped when a body exceeds MaxResponseBytes.
var errTooLarge = errors.New("response body over the size limit")

// faultMarker is in every fault's element name: an answer with HTTP 200
// without it cannot be a fault, and is left to the generated decoder alone.
const faultMarker = "Fault"

// soapTransport sits between the client span (tracing.HTTPClient) and the connection pool.
type soapTransport struct {
	base     http.RoundTripper
	line, ns string
	max      int64
}

// RoundTrip sends the request on a pooled connection and reads the whole
// answer, bounded by max, so that a fault is seen whatever its HTTP status
// and the connection goes back to the pool.
func (t *soapTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	att := attemptFrom(ctx)
	if att == nil { // a port called outside Do: still bounded, just not classified
		att = &attempt{}
	}
	span := trace.SpanFromContext(ctx) // the attempt's client span, described by newHTTPClient

	// gowsdl v0.5.0 sets Close on every request, which would cost a TCP
	// (and TLS) handshake per call. A shallow copy keeps the caller's
	// request untouched, as RoundTrip must.
	out := new(http.Request)
	*out = *req
	out.Close = false
	resp, err := t.base.RoundTrip(out)
	if err != nil {
		return nil, err
	}
	body, err := readBody(resp, t.max)
	if err != nil {
		if ctx.Err() == nil { // a deadline is Do's to report, as a timeout
			att.bad = err
		}
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	att.status = resp.StatusCode
	t.inspect(att, resp, body)
	if span.IsRecording() {
		switch {
		case att.fault != nil:
			f := att.fault
			span.SetStatus(codes.Error, "soap fault "+string(f.Kind)+": "+f.Code+": "+f.Message)
			span.SetAttributes(
				attribute.String("soap.fault.kind", string(f.Kind)),
				attribute.String("soap.fault.code", f.Code),
				attribute.String("soap.fault.string", f.Message),
			)
		case att.bad != nil:
			span.SetStatus(codes.Error, "bad response: "+clip(att.bad.Error(), maxFaultText))
		}
	}
	return resp, nil
}

// inspect records in att whether the answer is a fault or unusable. A plain
// HTTP 200 answer is not parsed here: the generated client decodes it.
func (t *soapTransport) inspect(att *attempt, resp *http.Response, body []byte) {
	status := resp.StatusCode
	if status == http.StatusUnauthorized || status == http.StatusForbidden {
		f := &Fault{Kind: FaultAuth, Code: "HTTP " + strconv.Itoa(status), Message: "credentials refused"}
		if p, err := parseResponse(body, t.ns); err == nil && p.fault != nil {
			f.Code, f.Message = p.fault.Code, p.fault.Message
		}
		att.fault = f
		return
	}
	if status == http.StatusOK && !bytes.Contains(body, []byte(faultMarker)) {
		return
	}
	p, err := parseResponse(body, t.ns)
	switch {
	case p.fault != nil:
		att.fault = p.fault
	case status == http.StatusOK:
		// Not a fault after all; if it is malformed, the generated
		// decoder says so.
	case err != nil:
		att.bad = fmt.Errorf("HTTP %d (%s) without a soap fault: %w", status, mediaType(resp.Header), err)
	default:
		att.bad = fmt.Errorf("HTTP %d with an answer instead of a fault", status)
	}
}

// readBody reads the whole body, at most limit bytes, and closes it. A body
// cut off early (over the limit, or on error) makes the transport close the
// connection instead of pooling it.
func readBody(resp *http.Response, limit int64) ([]byte, error) {
	defer resp.Body.Close()
	if resp.ContentLength > limit {
		return nil, fmt.Errorf("%w: Content-Length %d, limit %d", errTooLarge, resp.ContentLength, limit)
	}
	size := int64(4 << 10)
	if resp.ContentLength >= 0 {
		size = resp.ContentLength + 1 // room to read EOF without growing
	}
	b := make([]byte, 0, min(size, limit+1))
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := resp.Body.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if int64(len(b)) > limit {
			return nil, fmt.Errorf("%w: more than %d bytes", errTooLarge, limit)
		}
		if errors.Is(err, io.EOF) {
			return b, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read response body: %w", err)
		}
	}
}

// newHTTPClient builds the client under the generated ports: a client span
// per attempt with the trace context injected (tracing.HTTPClient), then
// soapTransport, then the pool. It returns the pool too, for Close.
func newHTTPClient(cfg Config) (*http.Client, http.RoundTripper) {
	pool := cfg.Transport
	if pool == nil {
		pool = &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			DialContext:         (&net.Dialer{KeepAlive: 30 * time.Second}).DialContext,
			MaxConnsPerHost:     cfg.MaxConnsPerHost,
			MaxIdleConns:        cfg.MaxConnsPerHost,
			MaxIdleConnsPerHost: cfg.MaxConnsPerHost,
			// Shorter than the keep-alive of most servers, so that we rarely
			// pick a connection the server is closing.
			IdleConnTimeout:     30 * time.Second,
			TLSHandshakeTimeout: 5 * time.Second,
		}
	}
	tp := cfg.TracerProvider
	if tp == nil {
		tp = tracenoop.NewTracerProvider()
	}
	line := cfg.Name
	rt := tracing.HTTPClient(
		&soapTransport{base: pool, line: line, ns: cfg.Namespace, max: cfg.MaxResponseBytes},
		tp, cfg.Propagators,
		func(r *http.Request) (string, []attribute.KeyValue) {
			action := soapAction(r.Header)
			op := actionOp(action)
			if a := attemptFrom(r.Context()); a != nil && a.op != "" {
				op = a.op
			}
			return line + "/" + op, []attribute.KeyValue{
				attribute.String("rpc.system", "soap"),
				attribute.String("rpc.service", line),
				attribute.String("rpc.method", op),
				attribute.String("soap.action", action),
			}
		},
	)
	return &http.Client{
		Transport: rt,
		// A SOAP endpoint that redirects is misconfigured; following it
		// would also re-send a paid request elsewhere.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}, pool
}

// soapAction returns the SOAPAction header without its quotes.
func soapAction(h http.Header) string {
	v := strings.TrimSpace(h.Get("SOAPAction"))
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		v = v[1 : len(v)-1]
	}
	return v
}

// actionOp returns the operation of an action such as
// urn:bangbang:partner:housing:v1/PromoteListing.
func actionOp(action string) string {
	if i := strings.LastIndexByte(action, '/'); i >= 0 {
		return action[i+1:]
	}
	return action
}

func mediaType(h http.Header) string {
	ct, _, _ := strings.Cut(h.Get("Content-Type"), ";")
	if ct = strings.TrimSpace(ct); ct == "" {
		return "no content type"
	}
	return clip(ct, 64)
}
