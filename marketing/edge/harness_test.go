package edge

import (
	"bytes"
	"context"
	"encoding/json"
	"go.opentelemetry.io/otel/trace"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bangbang-im/bangbang/core-im/auth"
	"github.com/bangbang-im/bangbang/internal/health"
	"github.com/bangbang-im/bangbang/internal/syncbuf"
	"github.com/bangbang-im/bangbang/marketing/idempotency"
	"github.com/bangbang-im/bangbang/marketing/ratelimit"
	"github.com/bangbang-im/bangbang/soap-clients/account"
	"github.com/bangbang-im/bangbang/soap-clients/housing"
	"github.com/bangbang-im/bangbang/soap-clients/partner"
	"github.com/bangbang-im/bangbang/soap-clients/recruitment"
	"github.com/bangbang-im/bangbang/soap-clients/sim"
	"github.com/bangbang-im/bangbang/tracing"
)

const testSecret = "edge-test-secret-edge-test-secret"

// generous lets every test request through unless a test is about limits.
func generous() map[ratelimit.Class]ratelimit.Limit {
	l := ratelimit.Limit{Rate: 10000, Burst: 10000, Period: time.Second}
	return map[ratelimit.Class]ratelimit.Limit{
		ratelimit.ClassRead: l, ratelimit.ClassRefresh: l, ratelimit.ClassPromote: l, ratelimit.ClassPurchase: l,
		ratelimit.ClassLogin: l, ratelimit.ClassLoginAddr: l,
	}
}

// options shape a harness; the zero value is a well-behaved setup.
type options struct {
	sim         *sim.Sim // shared simulator; nil starts one
	limiter     ratelimit.Limiter
	idem        idempotency.Store
	partner     func(line string, cfg *partner.Config) // adjusts a line's client config
	noMarketing bool                                   // no SOAP clients, limiter or store
	cfg         Config
	tracer      trace.TracerProvider // edge server spans; nil: none
	metrics     *tracing.HTTPMetrics // edge request metrics; nil: none
	clicks      Clicks               // campaign click counter; nil: none
	ready       *health.Readiness    // GET /readyz's checks; nil: none
}

// harness is an edge on a real port in front of the SOAP simulators on real ports.
type harness struct {
	t      *testing.T
	sim    *sim.Sim
	edge   *Server
	base   string
	tokens *auth.Tokens
	http   *http.Client
	logs   *syncbuf.Buffer
}

func startSim(t *testing.T) *sim.Sim {
	t.Helper()
	s, err := sim.New(sim.Config{HousingAddr: "127.0.0.1:0", RecruitmentAddr: "127.0.0.1:0", AccountAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("sim shutdown: %v", err)
		}
	})
	return s
}

// partnerConfig is a line's client config against s. The breaker is out of
// the way unless a test sets it up.
func partnerConfig(s *sim.Sim, line string) partner.Config {
	return partner.Config{
		Endpoint: s.URL(line), PartnerID: sim.DefaultPartnerID, PartnerKey: sim.DefaultPartnerKey,
		Timeout: 2 * time.Second, MaxResponseBytes: 64 << 10,
		BreakerMinRequests: 1 << 20, BreakerOpenTimeout: time.Minute,
	}
}

func newHarness(t *testing.T, o options) *harness {
	t.Helper()
	h := &harness{t: t, sim: o.sim, logs: &syncbuf.Buffer{}}
	if h.sim == nil {
		h.sim = startSim(t)
	}
	tk, err := auth.NewTokens([]byte(testSecret), time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	h.tokens = tk
	logger := slog.New(slog.NewJSONHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	deps := Deps{Logic: tokensValidLogic{}, Tokens: tk, Logger: logger, TracerProvider: o.tracer, Metrics: o.metrics, Clicks: o.clicks, Ready: o.ready}
	if !o.noMarketing {
		cfg := func(line string) partner.Config {
			c := partnerConfig(h.sim, line)
			if o.partner != nil {
				o.partner(line, &c)
			}
			return c
		}
		hc, err := housing.New(cfg(sim.Housing))
		if err != nil {
			t.Fatal(err)
		}
		rc, err := recruitment.New(cfg(sim.Recruitment))
		if err != nil {
			t.Fatal(err)
		}
		ac, err := account.New(cfg(sim.Account))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { hc.Close(); rc.Close(); ac.Close() })
		deps.Housing, deps.Recruitment, deps.Account = hc, rc, ac
		deps.Limiter, deps.Idempotency = o.limiter, o.idem
		if deps.Limiter == nil {
			deps.Limiter = ratelimit.NewLocal(generous(), ratelimit.Options{})
		}
		if deps.Idempotency == nil {
			deps.Idempotency = idempotency.NewMemory(idempotency.Options{})
		}
	}
	cfg := o.cfg
	cfg.Addr = "127.0.0.1:0"
	h.edge = New(cfg, deps)
	if err := h.edge.Start(); err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{}
	h.http = &http.Client{Transport: tr, Timeout: 10 * time.Second}
	t.Cleanup(func() {
		tr.CloseIdleConnections()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := h.edge.Shutdown(ctx); err != nil {
			t.Errorf("edge shutdown: %v", err)
		}
	})
	h.base = "http://" + h.edge.Addr().String()
	return h
}

// token signs a token for user of kind with the edge's secret.
func (h *harness) token(user, kind string) string {
	h.t.Helper()
	tok, _, err := h.tokens.Issue(user, kind)
	if err != nil {
		h.t.Fatal(err)
	}
	return tok
}

// req is one request to the edge.
type req struct {
	method, path string
	token        string
	body         string
	key          string // Idempotency-Key
	header       map[string]string
}

type resp struct {
	status int
	header http.Header
	body   []byte
}

func (h *harness) do(t *testing.T, r req) resp {
	t.Helper()
	res, err := h.try(r)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// try is do for goroutines other than the test's: it returns its error.
func (h *harness) try(r req) (resp, error) {
	var body io.Reader
	if r.body != "" {
		body = strings.NewReader(r.body)
	}
	hr, err := http.NewRequest(r.method, h.base+r.path, body)
	if err != nil {
		return resp{}, err
	}
	if r.body != "" {
		hr.Header.Set("Content-Type", "application/json")
	}
	if r.token != "" {
		hr.Header.Set("Authorization", "Bearer "+r.token)
	}
	if r.key != "" {
		hr.Header.Set("Idempotency-Key", r.key)
	}
	for k, v := range r.header {
		hr.Header.Set(k, v)
	}
	res, err := h.http.Do(hr)
	if err != nil {
		return resp{}, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return resp{}, err
	}
	observed.record(r.method, hr.URL.Path, res.StatusCode, res.Header.Get("Content-Type"), b)
	return resp{status: res.StatusCode, header: res.Header, body: b}, nil
}

// ok decodes a 200 answer into v, failing the test on any other.
func (r resp) ok(t *testing.T, v any) {
	t.Helper()
	if r.status != 200 {
		t.Fatalf("status %d, want 200: %s", r.status, r.body)
	}
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// fails checks an error answer: status, code, the one error shape and the
// request id that matches the header.
func (r resp) fails(t *testing.T, status int, code string) errorBody {
	t.Helper()
	var e errorBody
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil || r.status != status || e.Code != code || e.Message == "" ||
		e.RequestID == "" || e.RequestID != r.header.Get("X-Request-Id") {
		t.Fatalf("got %d %s (%v), want %d %s in the error shape", r.status, r.body, err, status, code)
	}
	return e
}

// calls is how many SOAP calls of line's op reached the simulator.
func (h *harness) calls(line, op string) int64 { return h.sim.Calls(line, op) }

// requests is every SOAP request any line received.
func (h *harness) requests(t *testing.T) int64 {
	t.Helper()
	var n int64
	for _, line := range sim.Lines() {
		st, err := h.sim.Stats(line)
		if err != nil {
			t.Fatal(err)
		}
		n += st.Requests
	}
	return n
}

func (h *harness) credits(t *testing.T, m string) int64 {
	t.Helper()
	c, ok := h.sim.Credits(m)
	if !ok {
		t.Fatalf("sim has no merchant %s", m)
	}
	return c
}
