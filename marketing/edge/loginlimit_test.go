package edge

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/bangbang-im/bangbang/core-im/auth"
	"github.com/bangbang-im/bangbang/gen/common"
	logicgen "github.com/bangbang-im/bangbang/gen/logic"
	"github.com/bangbang-im/bangbang/marketing/ratelimit"
	"github.com/bangbang-im/bangbang/tracing/metricstest"
)

type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func startLimitedEdge(t *testing.T, lim ratelimit.Limiter, reg prometheus.Registerer) string {
	t.Helper()
	tk := edgeTokens(t)
	lm, err := ratelimit.NewLoginMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	s := New(Config{Addr: "127.0.0.1:0", IMTCP: "127.0.0.1:8800", MaxBodyBytes: 1024},
		Deps{Logic: realLogic(t), Tokens: tk, Limiter: lim, LoginMetrics: lm})
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.Shutdown(ctx)
	})
	return "http://" + s.Addr().String()
}

// edgeTokens signs with the secret startLimitedEdge's server verifies with.
func edgeTokens(t *testing.T) *auth.Tokens {
	t.Helper()
	tk, err := auth.NewTokens([]byte(strings.Repeat("s", 32)), time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

func loginLimits(account, address ratelimit.Limit) map[ratelimit.Class]ratelimit.Limit {
	return map[ratelimit.Class]ratelimit.Limit{ratelimit.ClassLogin: account, ratelimit.ClassLoginAddr: address}
}

var roomy = ratelimit.Limit{Rate: 1000, Burst: 1000, Period: time.Second}

// Guessing one account's password: after its budget, every attempt is 429 with
// Retry-After, the right password too, until the budget refills; counted and logged.
func TestLoginThrottledPerAccount(t *testing.T) {
	for _, backend := range []string{"local", "redis"} {
		t.Run(backend, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			clock := &testClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
			account := ratelimit.Limit{Rate: 1, Burst: 3, Period: time.Minute}
			var lim ratelimit.Limiter
			refill := func() { clock.advance(time.Minute) }
			if backend == "local" {
				lim = ratelimit.NewLocal(loginLimits(account, roomy), ratelimit.Options{Now: clock.Now})
			} else {
				// Redis keeps its own clock, which a test cannot move: a budget that does not
				// refill while the test runs (bcrypt is slow under the race detector); the
				// refill is the local case's.
				account = ratelimit.Limit{Rate: 1, Burst: 3, Period: time.Hour}
				lim = ratelimit.NewRedis(redisClient(t), loginLimits(account, roomy), ratelimit.Options{KeyPrefix: "bbtest:login:" + uuid.NewString() + ":", RedisTimeout: 5 * time.Second})
				refill = nil
			}
			base := startLimitedEdge(t, lim, reg)
			for i := range 3 {
				if code, _, body := post(t, base+"/v1/login", `{"user_id":"m1001","password":"guess`+strconv.Itoa(i)+`"}`); code != 401 {
					t.Fatalf("guess %d: %d %s, want 401", i, code, body)
				}
			}
			code, hdr, body := post(t, base+"/v1/login", `{"user_id":"m1001","password":"demo"}`)
			var e errorBody
			if code != 429 || json.Unmarshal(body, &e) != nil || e.Code != CodeRateLimited || hdr.Get("Retry-After") == "" {
				t.Fatalf("the right password while throttled: %d %v %s, want 429 with Retry-After", code, hdr, body)
			}
			if !strings.Contains(e.Message, "account") {
				t.Fatalf("429 message %q does not name the account budget", e.Message)
			}
			metricstest.Want(t, reg, map[string]float64{
				`bangbang_login_attempts_total{api="edge",result="failed"}`:    3,
				`bangbang_login_attempts_total{api="edge",result="throttled"}`: 1,
			})
			// Another account is not held by this one's budget.
			if code, _, body := post(t, base+"/v1/login", `{"user_id":"zz","password":"x"}`); code != 401 {
				t.Fatalf("another account: %d %s, want 401", code, body)
			}
			if refill == nil {
				return
			}
			refill()
			if code, _, body := post(t, base+"/v1/login", `{"user_id":"m1001","password":"demo"}`); code != 200 {
				t.Fatalf("after the window: %d %s, want 200", code, body)
			}
		})
	}
}

// One address trying many accounts is throttled by the address budget.
func TestLoginThrottledPerAddress(t *testing.T) {
	lim := ratelimit.NewLocal(loginLimits(roomy, ratelimit.Limit{Rate: 1, Burst: 4, Period: time.Minute}), ratelimit.Options{})
	base := startLimitedEdge(t, lim, prometheus.NewRegistry())
	for i := range 4 {
		if code, _, body := post(t, base+"/v1/login", `{"user_id":"u`+strconv.Itoa(i)+`","password":"x"}`); code != 401 {
			t.Fatalf("account %d: %d %s", i, code, body)
		}
	}
	code, hdr, body := post(t, base+"/v1/login", `{"user_id":"u9","password":"x"}`)
	if code != 429 || hdr.Get("Retry-After") == "" || !strings.Contains(string(body), "address") {
		t.Fatalf("fifth account from one address: %d %v %s, want 429 naming the address", code, hdr, body)
	}
}

// A user id no account can have is the client's mistake (400), never a 5xx.
func TestLoginUserIDWithNUL(t *testing.T) {
	base := startLimitedEdge(t, ratelimit.NewLocal(loginLimits(roomy, roomy), ratelimit.Options{}), prometheus.NewRegistry())
	for _, id := range []string{`m1001\u0000`, `m\u0007`, `m\u0085`} {
		code, _, body := post(t, base+"/v1/login", `{"user_id":"`+id+`","password":"demo"}`)
		if code != 400 || !strings.Contains(string(body), CodeBadRequest) {
			t.Fatalf("user_id %q: %d %s, want 400 bad_request", id, code, body)
		}
	}
}

func TestLogicStatus(t *testing.T) {
	ime := func(code common.ErrorCode) error {
		return &common.IMError{Code: int32(code), Message: "secret detail", Temporary: code == common.ErrorCode_UNAVAILABLE, RetryAfterMs: 1500}
	}
	for _, tc := range []struct {
		err    error
		status int
		code   string
		retry  int
	}{
		{ime(common.ErrorCode_BAD_REQUEST), 400, CodeBadRequest, 0},
		{ime(common.ErrorCode_UNAUTHENTICATED), 401, CodeUnauthenticated, 0},
		{ime(common.ErrorCode_TOKEN_EXPIRED), 401, CodeTokenExpired, 0},
		{ime(common.ErrorCode_FORBIDDEN), 403, CodeForbidden, 0},
		{ime(common.ErrorCode_NOT_FOUND), 404, CodeNotFound, 0},
		{ime(common.ErrorCode_RATE_LIMITED), 429, CodeRateLimited, 2},
		{ime(common.ErrorCode_UNAVAILABLE), 503, CodeUnavailable, 1},
		{ime(common.ErrorCode_INTERNAL), 500, CodeInternal, 0},
		{errors.New("dial tcp: connection refused"), 503, CodeUnavailable, 1},
	} {
		status, code, msg, retry := logicStatus(tc.err)
		if status != tc.status || code != tc.code || retry != tc.retry || strings.Contains(msg, "secret") || strings.Contains(msg, "refused") {
			t.Errorf("%v: %d %s %q retry %d, want %d %s retry %d, without the detail", tc.err, status, code, msg, retry, tc.status, tc.code, tc.retry)
		}
	}
}

// A dependency of logic away reaches the merchant as 503 with Retry-After (temporary).
func TestLoginLogicUnavailable(t *testing.T) {
	s, _ := startEdge(t, unavailableLogic{})
	code, hdr, body := post(t, "http://"+s.Addr().String()+"/v1/login", `{"user_id":"m1001","password":"demo"}`)
	if code != 503 || hdr.Get("Retry-After") == "" || !strings.Contains(string(body), CodeUnavailable) {
		t.Fatalf("%d %v %s, want 503 unavailable with Retry-After", code, hdr, body)
	}
}

type unavailableLogic struct{ logicgen.LogicService }

func (unavailableLogic) Authenticate(context.Context, *logicgen.AuthenticateRequest) (*logicgen.AuthenticateResponse, error) {
	return nil, &common.IMError{Code: int32(common.ErrorCode_UNAVAILABLE), Message: "authenticate: service unavailable, retry later", Temporary: true}
}
