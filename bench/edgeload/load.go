package main

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/bangbang-im/bangbang/bench/latency"
)

// phaseSpec is one phase: call, from concurrency goroutines, for warmup then duration.
type phaseSpec struct {
	Name        string
	Concurrency int
	// Rate is actions/s over all goroutines, each paced to its share; 0 means each calls
	// again as soon as the last call returns (closed loop, for throughput).
	Rate             float64
	Warmup, Duration time.Duration
	Meter            meter
	// Call does one action as goroutine worker; an error is a failed action, and an
	// *HTTPError with status 429 a refused one.
	Call func(ctx context.Context, worker int) error
}

// phaseResult is what one phase measured in its window (after the warmup).
type phaseResult struct {
	Name       string           `json:"name"`
	Seconds    float64          `json:"seconds"`
	OK         int64            `json:"ok"`
	Limited    int64            `json:"limited_429"`
	Failed     int64            `json:"failed"`
	Errors     map[string]int64 `json:"errors,omitempty"`
	FirstError string           `json:"first_error,omitempty"`
	Latency    latency.Summary  `json:"latency"`
	// Cost is CPU time by role (self, edge, sim) and Redis's script counters over the window.
	Cost    sample `json:"-"`
	LoadAvg string `json:"load_avg"`
	hist    latency.Histogram
}

// worker is one load goroutine's state; it alone writes it until runPhase merges it.
type worker struct {
	hist            latency.Histogram
	ok, lim, failed int64
	errs            map[string]int64
	first           error
}

// runPhase runs spec and returns when every goroutine it started has returned. Calls are
// timed from when they were due: with a rate, a call that waits for the previous one to
// return is late, and that wait counts in its latency (no coordinated omission).
func runPhase(ctx context.Context, spec phaseSpec) (phaseResult, error) {
	if spec.Concurrency < 1 || spec.Duration <= 0 || spec.Warmup < 0 || spec.Rate < 0 {
		return phaseResult{}, ErrConfig
	}
	start := time.Now()
	t0 := start.Add(spec.Warmup)
	t1 := t0.Add(spec.Duration)
	var interval time.Duration
	if spec.Rate > 0 {
		interval = time.Duration(float64(spec.Concurrency) / spec.Rate * float64(time.Second))
	}
	workers := make([]*worker, spec.Concurrency)
	var wg sync.WaitGroup
	for i := range workers {
		w := &worker{errs: map[string]int64{}}
		workers[i] = w
		// Paced goroutines are spread over the interval, not due all at once.
		first := start.Add(interval * time.Duration(i) / time.Duration(spec.Concurrency))
		wg.Go(func() { w.loop(ctx, spec.Call, i, first, interval, t0, t1) })
	}

	res := phaseResult{Name: spec.Name, Errors: map[string]int64{}}
	cpu0, err0 := sampleAt(ctx, spec.Meter, t0)
	cpu1, err1 := sampleAt(ctx, spec.Meter, t1)
	res.LoadAvg = loadAvg()
	wg.Wait()
	if err := errors.Join(err0, err1); err != nil {
		return res, err
	}
	res.Seconds = spec.Duration.Seconds()
	res.Cost = cpu1.sub(cpu0)
	for _, w := range workers {
		res.hist.Merge(&w.hist)
		res.OK += w.ok
		res.Limited += w.lim
		res.Failed += w.failed
		for k, n := range w.errs {
			res.Errors[k] += n
		}
		if w.first != nil && res.FirstError == "" {
			res.FirstError = w.first.Error()
		}
	}
	res.Latency = res.hist.Summary()
	return res, nil
}

// sampleAt waits until t, then reads the meter.
func sampleAt(ctx context.Context, m meter, t time.Time) (sample, error) {
	if err := waitUntil(ctx, t); err != nil {
		return sample{}, err
	}
	return m.read(ctx)
}

// waitUntil returns at t, or with ctx's error if ctx ends first.
func waitUntil(ctx context.Context, t time.Time) error {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err()
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-tm.C:
		return nil
	}
}

// loop calls until t1; calls due before t0 are the warmup and are not counted.
func (w *worker) loop(ctx context.Context, call func(context.Context, int) error, id int, next time.Time, interval time.Duration, t0, t1 time.Time) {
	for {
		due := time.Now()
		if interval > 0 {
			if !next.Before(t1) || waitUntil(ctx, next) != nil {
				return
			}
			due, next = next, next.Add(interval)
		}
		if !due.Before(t1) || ctx.Err() != nil {
			return
		}
		err := call(ctx, id)
		took := time.Since(due)
		if due.Before(t0) {
			continue
		}
		var he *HTTPError
		switch {
		case err == nil:
			w.ok++
			w.hist.Record(took)
		case errors.As(err, &he) && he.Status == 429:
			w.lim++
		case ctx.Err() != nil:
			return // interrupted: not the path's failure
		default:
			w.failed++
			w.errs[errKey(err)]++
			if w.first == nil {
				w.first = err
			}
		}
	}
}
