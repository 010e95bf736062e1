package edge

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bangbang-im/bangbang/core-im/auth"
	"github.com/bangbang-im/bangbang/core-im/logic"
	"github.com/bangbang-im/bangbang/core-im/router"
	"github.com/bangbang-im/bangbang/core-im/store"
	gatewaygen "github.com/bangbang-im/bangbang/gen/gateway"
	logicgen "github.com/bangbang-im/bangbang/gen/logic"
)

type noGateways struct{}

func (noGateways) Gateway(string) (gatewaygen.GatewayService, error) {
	return nil, errors.New("no gateways in this test")
}

// downLogic is a logic layer that cannot be reached, as when its process is gone.
type downLogic struct{ logicgen.LogicService }

func (downLogic) Authenticate(context.Context, *logicgen.AuthenticateRequest) (*logicgen.AuthenticateResponse, error) {
	return nil, errors.New("dial tcp 10.0.0.9:8900: connection refused")
}

// tokensValidLogic answers the token checks of the marketing tests, which are about the
// third parties: every token is valid, and nothing else of logic is reachable.
type tokensValidLogic struct{ downLogic }

func (tokensValidLogic) CheckToken(context.Context, *logicgen.CheckTokenRequest) (*logicgen.CheckTokenResponse, error) {
	return &logicgen.CheckTokenResponse{Valid: true}, nil
}

func startEdge(t *testing.T, lg logicgen.LogicService) (*Server, *auth.Tokens) {
	t.Helper()
	return startEdgeWith(t, Deps{Logic: lg})
}

// startEdgeWith starts an edge on deps, with its own tokens.
func startEdgeWith(t *testing.T, deps Deps) (*Server, *auth.Tokens) {
	t.Helper()
	tk, err := auth.NewTokens([]byte(strings.Repeat("s", 32)), time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	deps.Tokens = tk
	s := New(Config{Addr: "127.0.0.1:0", IMTCP: "127.0.0.1:8800", IMWS: "ws://127.0.0.1:8801/ws", MaxBodyBytes: 1024}, deps)
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.Shutdown(ctx)
	})
	return s, tk
}

func realLogic(t *testing.T) logicgen.LogicService {
	t.Helper()
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "im.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rt := router.NewMemory(router.MemoryOptions{})
	svc := logic.New(logic.Config{}, st, rt, noGateways{}, nil)
	t.Cleanup(func() { svc.Close(); rt.Close(); st.Close() })
	hash, err := auth.HashPassword("demo")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.PutUser(ctx, store.User{ID: "m1001", Kind: "merchant", PasswordHash: hash}); err != nil {
		t.Fatal(err)
	}
	return svc
}

func post(t *testing.T, url, body string) (int, http.Header, []byte) {
	t.Helper()
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	observed.record("POST", resp.Request.URL.Path, resp.StatusCode, resp.Header.Get("Content-Type"), b)
	return resp.StatusCode, resp.Header, b
}

func TestLogin(t *testing.T) {
	s, tk := startEdge(t, realLogic(t))
	base := "http://" + s.Addr().String()

	code, hdr, body := post(t, base+"/v1/login", `{"user_id":"m1001","password":"demo"}`)
	if code != 200 {
		t.Fatalf("login: %d %s", code, body)
	}
	var lr loginResponse
	if err := json.Unmarshal(body, &lr); err != nil {
		t.Fatal(err)
	}
	claims, err := tk.Verify(lr.Token)
	if err != nil || claims.UserID != "m1001" || claims.Kind != "merchant" || !claims.ExpiresAt.Equal(lr.ExpiresAt) {
		t.Fatalf("token: %+v, %v (response %s)", claims, err, body)
	}
	if lr.IM.TCP != "127.0.0.1:8800" || lr.IM.WS != "ws://127.0.0.1:8801/ws" || hdr.Get("X-Request-Id") == "" {
		t.Fatalf("login response %s, headers %v", body, hdr)
	}

	for _, tc := range []struct {
		name, body string
		status     int
		code       string
	}{
		{"wrong password", `{"user_id":"m1001","password":"nope"}`, 401, CodeUnauthenticated},
		{"unknown user", `{"user_id":"zz","password":"demo"}`, 401, CodeUnauthenticated},
		{"malformed json", `{"user_id":`, 400, CodeBadRequest},
		{"unknown field", `{"user_id":"m1001","password":"demo","admin":true}`, 400, CodeBadRequest},
		{"two documents", `{"user_id":"m1001","password":"demo"}{}`, 400, CodeBadRequest},
		{"missing password", `{"user_id":"m1001"}`, 400, CodeBadRequest},
		{"long user id", `{"user_id":"` + strings.Repeat("u", 65) + `","password":"demo"}`, 400, CodeBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, hdr, body := post(t, base+"/v1/login", tc.body)
			var e errorBody
			if err := json.Unmarshal(body, &e); err != nil || status != tc.status || e.Code != tc.code || e.RequestID != hdr.Get("X-Request-Id") || e.Message == "" {
				t.Fatalf("status %d body %s (%v), want %d %s", status, body, err, tc.status, tc.code)
			}
		})
	}

	// Over the body limit: refused by the server before any handler runs.
	if status, _, _ := post(t, base+"/v1/login", `{"user_id":"`+strings.Repeat("u", 2000)+`"}`); status != 413 {
		t.Fatalf("oversized body: status %d, want 413", status)
	}
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Get(base + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", resp, err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	observed.record("GET", "/healthz", resp.StatusCode, resp.Header.Get("Content-Type"), b)
}

func TestLoginWhenLogicIsDown(t *testing.T) {
	s, _ := startEdge(t, downLogic{})
	status, _, body := post(t, "http://"+s.Addr().String()+"/v1/login", `{"user_id":"m1001","password":"demo"}`)
	var e errorBody
	if err := json.Unmarshal(body, &e); err != nil || status != 503 || e.Code != CodeUnavailable || strings.Contains(string(body), "10.0.0.9") {
		t.Fatalf("status %d body %s: want 503 unavailable without the internal error text", status, body)
	}
}
