package ratelimit

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
)

// gcraN admits n at a time, each batch at its share of the rate: at 1000/s, 100 every
// 100ms, however the calls bunch up, and each key on its own.
func TestGCRANPaces(t *testing.T) {
	l, err := paceLimit(1000, 100)
	if err != nil {
		t.Fatal(err)
	}
	ms := func(v int64) int64 { return v * int64(time.Millisecond) }
	tat := int64(0)
	steps := []struct {
		at   int64 // ms
		wait time.Duration
	}{
		{0, 0},                         // the first batch goes at once
		{0, 100 * time.Millisecond},    // the second waits its 100ms
		{50, 50 * time.Millisecond},    // half of it passed
		{100, 0},                       // due
		{150, 50 * time.Millisecond},   // not before 200
		{1000, 0},                      // idle time does not bank a burst over n...
		{1000, 100 * time.Millisecond}, // ...so the next one waits again
	}
	for i, s := range steps {
		wait, next := gcraN(l, tat, ms(s.at), 100)
		if wait != s.wait {
			t.Fatalf("step %d at %dms: wait %v, want %v", i, s.at, wait, s.wait)
		}
		if wait == 0 {
			tat = next
		}
	}
}

func TestPaceLimitRefuses(t *testing.T) {
	for _, c := range []struct{ rate, n int }{{100, 0}, {100, 101}, {0, 1}, {-5, 1}} {
		if _, err := paceLimit(c.rate, c.n); !errors.Is(err, ErrInvalidLimit) {
			t.Errorf("%d at once at %d/s: %v, want ErrInvalidLimit", c.n, c.rate, err)
		}
	}
	if err := NewLocalPacer(nil).Wait(t.Context(), "k", 10, 11); !errors.Is(err, ErrInvalidLimit) {
		t.Errorf("local: %v", err)
	}
}

// Both pacers hold the cap: k batches of n at r/s cannot all pass in less than (k-1)·n/r,
// whoever asks. The Redis pacer's budget is shared by two instances, as two campaign
// workers share a campaign's.
func TestPacersHoldTheCap(t *testing.T) {
	const rate, n, batches = 2000, 100, 11 // at least 500ms
	c := redisClient(t)
	key := "test-" + uuid.NewString()
	t.Cleanup(func() { c.Del(context.Background(), "rate:bb:pace:"+key) })
	pacers := map[string][2]Pacer{
		"local": {NewLocalPacer(nil), nil},
		"redis": {NewRedisPacer(c, ""), NewRedisPacer(c, "")},
	}
	for name, ps := range pacers {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			for i := range batches {
				p := ps[0]
				if ps[1] != nil && i%2 == 1 {
					p = ps[1]
				}
				if err := p.Wait(t.Context(), key, rate, n); err != nil {
					t.Fatal(err)
				}
			}
			floor := time.Duration(batches-1) * n * time.Second / rate
			if took := time.Since(start); took < floor-5*time.Millisecond {
				t.Fatalf("%d batches of %d at %d/s passed in %v, under the %v the cap allows", batches, n, rate, took, floor)
			}
		})
	}
}

// A caller that gives up is not held: Wait answers its context's error.
func TestPacerWaitCanceled(t *testing.T) {
	c := redisClient(t)
	key := "test-" + uuid.NewString()
	t.Cleanup(func() { c.Del(context.Background(), "rate:bb:pace:"+key) })
	for name, p := range map[string]Pacer{"local": NewLocalPacer(nil), "redis": NewRedisPacer(c, "")} {
		if err := p.Wait(t.Context(), key, 1, 1); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if err := p.Wait(ctx, key, 1, 1); !errors.Is(err, context.Canceled) {
			t.Errorf("%s: %v, want context.Canceled", name, err)
		}
	}
}
