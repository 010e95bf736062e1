package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

func contextCanceled(t testing.TB) (context.Context, context.CancelFunc) {
	return context.WithCancel(ctxT(t))
}

// TestDefaultLimits pins the documented policy: refresh lets 5 through at
// once, then one every 6 seconds.
func TestDefaultLimits(t *testing.T) {
	if err := ValidateLimits(DefaultLimits()); err != nil {
		t.Fatal(err)
	}
	clock := newFakeClock()
	l := NewLocal(DefaultLimits(), Options{Now: clock.Now})
	var ds []Decision
	for range 6 {
		ds = append(ds, allow(t, l, "m1001", ClassRefresh))
	}
	if p := pattern(ds); p != "AAAAAD" {
		t.Fatalf("burst: %s", p)
	}
	if ds[5].RetryAfter != 6*time.Second || ds[5].ResetAfter != 30*time.Second {
		t.Fatalf("denied: %+v", ds[5])
	}
	clock.Advance(6*time.Second - time.Nanosecond)
	if allow(t, l, "m1001", ClassRefresh).Allowed {
		t.Fatal("allowed before the emission interval")
	}
	clock.Advance(time.Nanosecond)
	if d := allow(t, l, "m1001", ClassRefresh); !d.Allowed || d.Remaining != 0 {
		t.Fatalf("after 6s: %+v", d)
	}
	// Other classes and merchants are untouched.
	if d := allow(t, l, "m1001", ClassRead); d.Remaining != 29 {
		t.Fatalf("read: %+v", d)
	}
	if d := allow(t, l, "m1002", ClassRefresh); d.Remaining != 4 {
		t.Fatalf("other merchant: %+v", d)
	}
}

func TestValidation(t *testing.T) {
	limits := map[Class]Limit{ClassRead: {Rate: 1, Burst: 1, Period: time.Second}, "broken": {Rate: 0, Burst: 1, Period: time.Second}}
	_, c := newMiniredis(t)
	for name, l := range map[string]Limiter{
		"local": NewLocal(limits, Options{}),
		"redis": NewRedis(c, limits, Options{}),
	} {
		t.Run(name, func(t *testing.T) {
			ctx := ctxT(t)
			for _, tc := range []struct {
				merchant string
				class    Class
				want     error
			}{
				{"m1001", "nope", ErrUnknownClass},
				{"m1001", "broken", ErrInvalidLimit},
				{"", ClassRead, ErrInvalidMerchant},
				{"m 1001", ClassRead, ErrInvalidMerchant},
				{"m{1}", ClassRead, ErrInvalidMerchant},
				{"m\xff", ClassRead, ErrInvalidMerchant},
				{string(make([]byte, MaxMerchantLen+1)), ClassRead, ErrInvalidMerchant},
			} {
				if _, err := l.Allow(ctx, tc.merchant, tc.class); !errors.Is(err, tc.want) {
					t.Errorf("allow(%q, %q): %v, want %v", tc.merchant, tc.class, err, tc.want)
				}
			}
			cctx, cancel := contextCanceled(t)
			cancel()
			if _, err := l.Allow(cctx, "m1001", ClassRead); !errors.Is(err, context.Canceled) {
				t.Errorf("canceled: %v", err)
			}
		})
	}
}

func TestValidateLimits(t *testing.T) {
	for _, tc := range []struct {
		limits map[Class]Limit
		ok     bool
	}{
		{DefaultLimits(), true},
		{nil, false},
		{map[Class]Limit{"": {1, 1, time.Second}}, false},
		{map[Class]Limit{"a b": {1, 1, time.Second}}, false},
		{map[Class]Limit{"read": {0, 1, time.Second}}, false},
		{map[Class]Limit{"read": {1, 0, time.Second}}, false},
		{map[Class]Limit{"read": {1, 1, 0}}, false},
		{map[Class]Limit{"read": {2_000_000, 1, time.Second}}, false},
	} {
		err := ValidateLimits(tc.limits)
		if (err == nil) != tc.ok || (err != nil && !errors.Is(err, ErrInvalidLimit)) {
			t.Errorf("%v: %v", tc.limits, err)
		}
	}
}

// TestLocalMemoryBound: a flood of merchants never grows the limiter past
// MaxKeys, and the key in use survives the eviction of idle ones.
func TestLocalMemoryBound(t *testing.T) {
	clock := newFakeClock()
	l := NewLocal(map[Class]Limit{ClassPromote: {Rate: 1, Burst: 1, Period: time.Hour}},
		Options{Now: clock.Now, MaxKeys: 64})
	if !allow(t, l, "hot", ClassPromote).Allowed {
		t.Fatal("first request denied")
	}
	for i := range 5000 {
		allow(t, l, fmt.Sprintf("m%d", i), ClassPromote)
		// Forgetting "hot" would let it through again.
		if allow(t, l, "hot", ClassPromote).Allowed {
			t.Fatalf("hot key evicted after %d other merchants", i)
		}
	}
	if n := l.keys(); n > 64 {
		t.Fatalf("%d keys held, bound is 64", n)
	}
}

// TestLocalConcurrent: concurrent calls on one key allow exactly the burst,
// and on many keys each gets its own (run with -race).
func TestLocalConcurrent(t *testing.T) {
	l := NewLocal(map[Class]Limit{ClassRead: {Rate: 50, Burst: 50, Period: time.Hour}}, Options{})
	ctx := ctxT(t)
	var wg sync.WaitGroup
	var mu sync.Mutex
	perMerchant := map[string]int{}
	for g := range 16 {
		wg.Go(func() {
			for i := range 200 {
				m := []string{"m1001", "m1002"}[(g+i)%2]
				d, err := l.Allow(ctx, m, ClassRead)
				if err != nil {
					t.Error(err)
					return
				}
				if d.Allowed {
					mu.Lock()
					perMerchant[m]++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if perMerchant["m1001"] != 50 || perMerchant["m1002"] != 50 {
		t.Fatalf("allowed %v, want the burst of 50 each", perMerchant)
	}
}
