package main

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"
)

func TestRunPhaseClosedLoop(t *testing.T) {
	var calls atomic.Int64
	res, err := runPhase(t.Context(), phaseSpec{Name: "t", Concurrency: 4, Warmup: 100 * time.Millisecond, Duration: 300 * time.Millisecond,
		Call: func(ctx context.Context, worker int) error {
			calls.Add(1)
			return waitUntil(ctx, time.Now().Add(time.Millisecond))
		}})
	if err != nil {
		t.Fatal(err)
	}
	// Four goroutines calling 1 ms actions for 0.4 s: hundreds, of which the warmup's
	// quarter is not counted.
	if res.OK < 100 || res.OK >= calls.Load() || res.Failed != 0 || res.Limited != 0 {
		t.Fatalf("ok %d of %d calls, failed %d, limited %d: want most calls counted, the warmup's not", res.OK, calls.Load(), res.Failed, res.Limited)
	}
	if res.Latency.Count != uint64(res.OK) || res.Latency.P50 < 1 || res.Latency.P50 > 50 {
		t.Errorf("latency %+v for %d ok 1 ms actions", res.Latency, res.OK)
	}
	if res.Seconds != 0.3 {
		t.Errorf("seconds %v, want the measured 0.3", res.Seconds)
	}
	if res.Cost.CPU[roleSelf] < 0 {
		t.Errorf("self cpu %v", res.Cost.CPU[roleSelf])
	}
}

func TestRunPhasePaced(t *testing.T) {
	res, err := runPhase(t.Context(), phaseSpec{Name: "t", Concurrency: 5, Rate: 200, Warmup: 100 * time.Millisecond, Duration: 500 * time.Millisecond,
		Call: func(context.Context, int) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	// 200/s for 0.5 s is 100 calls due in the window; goroutines are spread over the
	// interval, so the count is exact but for the window's edges.
	if res.OK < 95 || res.OK > 105 {
		t.Fatalf("ok %d at 200/s for 0.5 s, want about 100", res.OK)
	}
}

func TestRunPhaseOutcomes(t *testing.T) {
	var n atomic.Int64
	res, err := runPhase(t.Context(), phaseSpec{Name: "t", Concurrency: 2, Rate: 300, Duration: 300 * time.Millisecond,
		Call: func(context.Context, int) error {
			switch n.Add(1) % 3 {
			case 0:
				return &HTTPError{Status: 429, Code: "rate_limited"}
			case 1:
				return fmt.Errorf("edge: %w", &HTTPError{Status: 503, Code: "upstream_unavailable"})
			default:
				return nil
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	if res.OK == 0 || res.Limited == 0 || res.Failed == 0 {
		t.Fatalf("ok %d, limited %d, failed %d: want each outcome", res.OK, res.Limited, res.Failed)
	}
	if res.Errors["HTTP 503 upstream_unavailable"] != res.Failed || len(res.Errors) != 1 {
		t.Errorf("errors %v, want only the 503s, %d of them", res.Errors, res.Failed)
	}
	if res.Latency.Count != uint64(res.OK) {
		t.Errorf("%d latency samples for %d ok: refused and failed actions must not be timed", res.Latency.Count, res.OK)
	}
}

func TestRunPhaseStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	var started atomic.Int64
	done := make(chan error, 1)
	go func() {
		_, err := runPhase(ctx, phaseSpec{Name: "t", Concurrency: 3, Duration: time.Hour,
			Call: func(ctx context.Context, _ int) error {
				started.Add(1)
				<-ctx.Done()
				return ctx.Err()
			}})
		done <- err
	}()
	if err := waitFor(t.Context(), time.Now().Add(5*time.Second), func() bool { return started.Load() == 3 }); err != nil {
		t.Fatalf("goroutines not started: %v", err)
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("runPhase after cancel: %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("runPhase did not return within 5s of its context's end")
	}
}

func TestRunPhaseRejectsBadSpec(t *testing.T) {
	for _, s := range []phaseSpec{{Concurrency: 0, Duration: time.Second}, {Concurrency: 1}, {Concurrency: 1, Duration: time.Second, Rate: -1}} {
		if _, err := runPhase(t.Context(), s); !errors.Is(err, ErrConfig) {
			t.Errorf("runPhase(%+v): %v, want ErrConfig", s, err)
		}
	}
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(ctx context.Context, deadline time.Time, cond func() bool) error {
	for !cond() {
		if time.Now().After(deadline) {
			return errors.New("condition not met before the deadline")
		}
		if err := waitUntil(ctx, time.Now().Add(5*time.Millisecond)); err != nil {
			return err
		}
	}
	return nil
}
