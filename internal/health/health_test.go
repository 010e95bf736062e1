package health

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestReadiness(t *testing.T) {
	ok := Check{Name: "store", Probe: func(context.Context) error { return nil }}
	down := Check{Name: "redis", Probe: func(context.Context) error { return errors.New("dial tcp: connection refused") }}
	hung := Check{Name: "logic", Probe: func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }}
	for _, tc := range []struct {
		name   string
		r      *Readiness
		status int
		want   Report
	}{
		{"none", nil, 200, Report{Status: "ready", Checks: map[string]string{}}},
		{"all ok", New(0, nil, ok), 200, Report{Status: "ready", Checks: map[string]string{"store": "ok"}}},
		{"one down, one hung", New(50*time.Millisecond, nil, ok, down, hung), 503, Report{
			Status: "unready", Code: "unavailable", Message: "not ready: logic, redis",
			Checks: map[string]string{"store": "ok", "redis": "unreachable", "logic": "timeout"},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			w := httptest.NewRecorder()
			tc.r.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/readyz", nil))
			if took := time.Since(start); took > 2*time.Second {
				t.Errorf("took %v: the hung check was not bounded", took)
			}
			var got Report
			if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			if w.Code != tc.status || got.Status != tc.want.Status || got.Code != tc.want.Code ||
				got.Message != tc.want.Message || len(got.Checks) != len(tc.want.Checks) {
				t.Fatalf("%d %+v, want %d %+v", w.Code, got, tc.status, tc.want)
			}
			for k, v := range tc.want.Checks {
				if got.Checks[k] != v {
					t.Errorf("check %s: %q, want %q", k, got.Checks[k], v)
				}
			}
		})
	}
}
