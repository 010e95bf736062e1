package admin

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/bangbang-im/bangbang/marketing/ratelimit"
	"github.com/bangbang-im/bangbang/tracing"
	"github.com/bangbang-im/bangbang/tracing/metricstest"
)

// Guessing staff keys from one address: past the address's budget every attempt, the
// right key too, is 429 with Retry-After; counted.
func TestLoginThrottledPerAddress(t *testing.T) {
	reg := prometheus.NewRegistry()
	lm, err := ratelimit.NewLoginMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	lim := ratelimit.NewLocal(map[ratelimit.Class]ratelimit.Limit{
		ratelimit.ClassLogin:     {Rate: 1000, Burst: 1000, Period: time.Second},
		ratelimit.ClassLoginAddr: {Rate: 1, Burst: 3, Period: time.Hour},
	}, ratelimit.Options{})
	s, err := New(Config{Addr: "127.0.0.1:0", Keys: []string{key}},
		Deps{Traces: tracing.NewStore(1 << 20), Logins: ratelimit.NewLoginGuard(lim, "admin", lm)})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.Shutdown(ctx)
	})
	base := "http://" + s.Addr().String()
	for i := range 2 {
		if a := loginWith(t, base, "bbk_guess_"+strings.Repeat("x", i+10), ""); a.status != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d", i, a.status)
		}
	}
	if a := loginWith(t, base, key, ""); a.status != http.StatusSeeOther {
		t.Fatalf("the right key within the budget: %d, want the redirect", a.status)
	}
	a := loginWith(t, base, key, "")
	if a.status != http.StatusTooManyRequests || a.header.Get("Retry-After") == "" || sessionCookie(a) != nil ||
		!strings.Contains(a.body, "Too many attempts") {
		t.Fatalf("the right key past the budget: %d %v, want 429 with Retry-After and no session", a.status, a.header)
	}
	metricstest.Want(t, reg, map[string]float64{
		`bangbang_login_attempts_total{api="admin",result="failed"}`:    2,
		`bangbang_login_attempts_total{api="admin",result="ok"}`:        1,
		`bangbang_login_attempts_total{api="admin",result="throttled"}`: 1,
	})
}
