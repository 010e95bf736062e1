package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	logicgen "github.com/bangbang-im/bangbang/gen/logic"
	"github.com/bangbang-im/bangbang/internal/pgtest"
	"github.com/bangbang-im/bangbang/marketing/campaign"
	"github.com/bangbang-im/bangbang/tracing"
)

// fakeLogic stands in for the IM logic service, an outside party to this package: it
// records every call and answers as a logic with every merchant online on one device.
type fakeLogic struct {
	mu        sync.Mutex
	pushes    []*logicgen.PushRequest
	ensured   []*logicgen.UserInfo
	ensureErr error // what EnsureUsers answers, when set
	pushErr   error // what PushToUsers answers, when set
	revokes   []*logicgen.RevokeTokensRequest
	revokeErr error // what RevokeTokens answers, when set
}

func (f *fakeLogic) RevokeTokens(_ context.Context, req *logicgen.RevokeTokensRequest) (*logicgen.RevokeTokensResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.revokeErr != nil {
		return nil, f.revokeErr
	}
	f.revokes = append(f.revokes, req)
	return &logicgen.RevokeTokensResponse{Kicked: 2}, nil
}

func (f *fakeLogic) PushToUsers(_ context.Context, req *logicgen.PushRequest) (*logicgen.PushResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.pushErr != nil {
		return nil, f.pushErr
	}
	f.pushes = append(f.pushes, req)
	resp := &logicgen.PushResponse{}
	for i, u := range req.Users {
		resp.Results = append(resp.Results, &logicgen.PushStatus{UserId: u, MsgId: "msg-" + u + "-" + string(rune('a'+i)),
			Seq: 1, OnlineDevices: 1})
	}
	return resp, nil
}

func (f *fakeLogic) EnsureUsers(_ context.Context, req *logicgen.EnsureUsersRequest) (*logicgen.EnsureUsersResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ensureErr != nil {
		return nil, f.ensureErr
	}
	f.ensured = append(f.ensured, req.Users...)
	return &logicgen.EnsureUsersResponse{}, nil
}

func (f *fakeLogic) setEnsureErr(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ensureErr = err
}

// calls returns copies of what logic was asked so far.
func (f *fakeLogic) calls() ([]*logicgen.PushRequest, []*logicgen.UserInfo) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*logicgen.PushRequest(nil), f.pushes...), append([]*logicgen.UserInfo(nil), f.ensured...)
}

// harness is an admin server on 127.0.0.1:0 over a real campaign store, with tracing on
// (every request sampled, spans kept in traces).
type harness struct {
	t      *testing.T
	s      *Server
	store  *campaign.Store
	logic  *fakeLogic
	traces *tracing.Store
	base   string
}

func sqliteStore(t *testing.T) *campaign.Store {
	t.Helper()
	st, err := campaign.OpenSQLite(t.Context(), filepath.Join(t.TempDir(), "campaigns.db"), campaign.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// postgresStore opens a campaign store in a schema of its own (dropped when the test
// ends), so tests of packages running in parallel never see each other's tables. An
// unreachable server fails the test unless BANGBANG_TEST_SKIP_PG=1.
func postgresStore(t *testing.T) *campaign.Store {
	t.Helper()
	st, err := campaign.OpenPostgres(t.Context(), pgtest.SchemaURL(t, "test_admin"), campaign.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Registered after the schema's cleanup, so it runs first.
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// newHarness starts a server over store; tune, if given, adjusts it before it binds.
func newHarness(t *testing.T, store *campaign.Store, tune ...func(*Server)) *harness {
	t.Helper()
	traces := tracing.NewStore(4 << 20)
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(traces))
	lg := &fakeLogic{}
	s, err := New(Config{Addr: "127.0.0.1:0", Keys: []string{key}},
		Deps{Campaigns: store, Logic: lg, Traces: traces, TracerProvider: tp})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range tune {
		f(s)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.Shutdown(ctx)
		_ = tp.Shutdown(ctx)
	})
	return &harness{t: t, s: s, store: store, logic: lg, traces: traces, base: "http://" + s.Addr().String()}
}

// do sends one request with the bearer key k ("" for none). body is sent as is when it
// is a string or an io.Reader, else as JSON; hdr holds header name, value pairs.
func (h *harness) do(method, path, k string, body any, hdr ...string) answer {
	h.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	case io.Reader:
		r = b
	default:
		js, err := json.Marshal(b)
		if err != nil {
			h.t.Fatal(err)
		}
		r = bytes.NewReader(js)
		hdr = append([]string{"Content-Type", "application/json"}, hdr...)
	}
	if k != "" {
		hdr = append(hdr, "Authorization", "Bearer "+k)
	}
	return send(h.t, method, h.base+path, r, hdr...)
}

// ok is do that fails the test unless the answer has status want; it decodes the body
// into out when out is not nil.
func (h *harness) ok(want int, out any, method, path, k string, body any, hdr ...string) answer {
	h.t.Helper()
	a := h.do(method, path, k, body, hdr...)
	if a.status != want {
		h.t.Fatalf("%s %s: %d, want %d: %s", method, path, a.status, want, a.body)
	}
	if out != nil {
		if err := json.Unmarshal([]byte(a.body), out); err != nil {
			h.t.Fatalf("%s %s: %v in %s", method, path, err, a.body)
		}
	}
	return a
}

// apiError decodes an error answer.
func apiError(t *testing.T, a answer) errorBody {
	t.Helper()
	var e errorBody
	if err := json.Unmarshal([]byte(a.body), &e); err != nil {
		t.Fatalf("error body %q: %v", a.body, err)
	}
	return e
}

// newKey stores a key of role and returns its secret.
func (h *harness) newKey(role campaign.Role) (campaign.Key, string) {
	h.t.Helper()
	k, secret, err := h.store.CreateKey(h.t.Context(), campaign.BootstrapActor, string(role)+" key", role)
	if err != nil {
		h.t.Fatal(err)
	}
	return k, secret
}

// merchant stores a merchant directly.
func (h *harness) merchant(id, name, city string, tags ...string) campaign.Merchant {
	h.t.Helper()
	m, err := h.store.CreateMerchant(h.t.Context(), campaign.BootstrapActor,
		campaign.Merchant{ID: id, Name: name, City: city, Category: "housing", Tags: tags})
	if err != nil {
		h.t.Fatal(err)
	}
	return m
}

// spec is a valid campaign spec reaching ids.
func spec(name string, ids ...string) campaign.Spec {
	return campaign.Spec{Name: name, Rate: 50, Audience: campaign.Audience{MerchantIDs: ids},
		Message: campaign.Message{Title: "Hello {{.Name}}", Body: "New buyers in {{.City}} this week.",
			Action: &campaign.Action{Label: "Refresh", Type: "listing.refresh", Target: "L-{{.ID}}"}}}
}

// campaignIn stores a campaign of spec sp and brings it to state (draft, running,
// paused or cancelled) through the store.
func (h *harness) campaignIn(state campaign.State, sp campaign.Spec) campaign.Campaign {
	h.t.Helper()
	ctx, a := h.t.Context(), campaign.BootstrapActor
	c, err := h.store.CreateCampaign(ctx, a, sp)
	if err == nil && state != campaign.StateDraft && state != campaign.StateCancelled {
		c, err = h.store.Start(ctx, a, c.ID)
	}
	if err == nil && state == campaign.StatePaused {
		c, err = h.store.Pause(ctx, a, c.ID, "test")
	}
	if err == nil && state == campaign.StateCancelled {
		c, err = h.store.Cancel(ctx, a, c.ID)
	}
	if err != nil {
		h.t.Fatal(err)
	}
	if c.State != state {
		h.t.Fatalf("campaign %s is %s, want %s", c.ID, c.State, state)
	}
	return c
}

// jsonInto decodes body into v and returns it.
func jsonInto[T any](t *testing.T, body string, v *T) T {
	t.Helper()
	if err := json.Unmarshal([]byte(body), v); err != nil {
		t.Fatalf("%v in %s", err, body)
	}
	return *v
}
