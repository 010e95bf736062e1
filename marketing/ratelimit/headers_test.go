package ratelimit

import (
	"maps"
	"testing"
	"time"
)

func TestHeaders(t *testing.T) {
	refresh := Limit{Rate: 10, Burst: 5, Period: time.Minute}
	for _, tc := range []struct {
		name string
		d    Decision
		want map[string]string
	}{
		{"allowed", Decision{Allowed: true, Limit: refresh, Remaining: 3, ResetAfter: 12 * time.Second},
			map[string]string{"RateLimit-Limit": "5", "RateLimit-Remaining": "3", "RateLimit-Reset": "12", "RateLimit-Policy": "5;w=30"}},
		{"denied rounds up", Decision{Limit: refresh, RetryAfter: 5*time.Second + time.Millisecond, ResetAfter: 29500 * time.Millisecond},
			map[string]string{"RateLimit-Limit": "5", "RateLimit-Remaining": "0", "RateLimit-Reset": "30", "RateLimit-Policy": "5;w=30", "Retry-After": "6"}},
		{"denied under a second", Decision{Limit: Limit{Rate: 10, Burst: 3, Period: time.Second}, RetryAfter: time.Millisecond, ResetAfter: 250 * time.Millisecond},
			map[string]string{"RateLimit-Limit": "3", "RateLimit-Remaining": "0", "RateLimit-Reset": "1", "RateLimit-Policy": "3;w=1", "Retry-After": "1"}},
		{"hourly", Decision{Allowed: true, Limit: DefaultLimits()[ClassPromote], Remaining: 4, ResetAfter: 3 * time.Minute},
			map[string]string{"RateLimit-Limit": "5", "RateLimit-Remaining": "4", "RateLimit-Reset": "180", "RateLimit-Policy": "5;w=900"}},
		{"no decision", Decision{}, map[string]string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Headers(tc.d); !maps.Equal(got, tc.want) {
				t.Fatalf("got %v\nwant %v", got, tc.want)
			}
		})
	}
}

// TestHeadersFromLimiter: the headers of a real sequence; Retry-After
// appears only on the denial.
func TestHeadersFromLimiter(t *testing.T) {
	l := NewLocal(DefaultLimits(), Options{Now: newFakeClock().Now})
	var last map[string]string
	for i := range 4 {
		d := allow(t, l, "m1001", ClassPurchase)
		last = Headers(d)
		if _, ok := last["Retry-After"]; ok == d.Allowed {
			t.Fatalf("call %d: allowed %v with headers %v", i, d.Allowed, last)
		}
	}
	// purchase: 10 per hour (one per 6 minutes), burst 3.
	want := map[string]string{"RateLimit-Limit": "3", "RateLimit-Remaining": "0", "RateLimit-Reset": "1080", "RateLimit-Policy": "3;w=1080", "Retry-After": "360"}
	if !maps.Equal(last, want) {
		t.Fatalf("got %v\nwant %v", last, want)
	}
}
