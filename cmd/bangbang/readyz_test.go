package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/bangbang-im/bangbang/internal/netfault"
)

type readiness struct {
	Status string            `json:"status"`
	Checks map[string]string `json:"checks"`
}

// waitReady polls url until it answers status with the dependency check in state
// (any state but "ok" when state is "down").
func waitReady(t *testing.T, url string, status int, check, state string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		resp, err := http.Get(url)
		if err == nil {
			var r readiness
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			last = string(b)
			_ = json.Unmarshal(b, &r)
			got := r.Checks[check]
			if resp.StatusCode == status && (got == state || state == "down" && got != "" && got != "ok") {
				return
			}
		}
		time.Sleep(50 * time.Millisecond) // polling a condition, not synchronising on time
	}
	t.Fatalf("%s: want %d with %s %s; last answer %s", url, status, check, state, last)
}

// logic's /readyz follows its store and its route table: 503 naming the store while
// PostgreSQL is cut off, 503 naming the routes while Redis is, 200 again once each is
// back; /healthz (liveness) stays 200 throughout. A gateway's /readyz follows logic.
func TestReadyzFollowsDependencies(t *testing.T) {
	t.Parallel()
	u, err := url.Parse(pgSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	pg := netfault.New(t, u.Host)
	u.Host = pg.Addr()
	redisTarget := os.Getenv("BANGBANG_TEST_REDIS_ADDR")
	if redisTarget == "" {
		redisTarget = "127.0.0.1:6379"
	}
	rd := netfault.New(t, redisTarget)

	logicAddr, logicMetrics := freeAddr(t), freeAddr(t)
	lp := start(t, "logic", []string{"DATABASE_URL=" + u.String(), "REDIS_ADDR=" + rd.Addr()}, []string{logicAddr, logicMetrics},
		"logic", "--data-dir", t.TempDir(), "--logic-addr", logicAddr, "--metrics-addr", logicMetrics)
	ready, live := "http://"+logicMetrics+"/readyz", "http://"+logicMetrics+"/healthz"
	waitReady(t, ready, 200, "store", "ok")
	waitReady(t, ready, 200, "routes", "ok")

	gwMetrics := freeAddr(t)
	start(t, "gateway", nil, []string{gwMetrics}, "gateway", "--data-dir", t.TempDir(), "--token-secret", testTokenSecret,
		"--logic-addr", logicAddr, "--tcp-addr", freeAddr(t), "--ws-addr", "-", "--push-addr", freeAddr(t), "--metrics-addr", gwMetrics)
	gwReady := "http://" + gwMetrics + "/readyz"
	waitReady(t, gwReady, 200, "logic", "ok")
	// The metrics listeners serve the Go profiles too.
	for _, base := range []string{logicMetrics, gwMetrics} {
		if code := httpGet(t, "http://"+base+"/debug/pprof/goroutine?debug=1"); code != 200 {
			t.Errorf("%s/debug/pprof/goroutine: %d, want 200", base, code)
		}
	}

	pg.Cut()
	waitReady(t, ready, 503, "store", "down")
	if code := httpGet(t, live); code != 200 {
		t.Fatalf("healthz %d while PostgreSQL is down", code)
	}
	pg.Restore()
	waitReady(t, ready, 200, "store", "ok")

	rd.Cut()
	waitReady(t, ready, 503, "routes", "down")
	rd.Restore()
	waitReady(t, ready, 200, "routes", "ok")

	lp.kill()
	waitReady(t, gwReady, 503, "logic", "down")
}
