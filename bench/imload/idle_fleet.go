package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bangbang-im/bangbang/bench/latency"
)

// fleetSpec says which connections a fleet opens and how.
type fleetSpec struct {
	conns   int
	addr    string
	plan    sourcePlan
	tokens  []string // connection i logs in with tokens[i%len(tokens)]
	timeout time.Duration
}

// fleetOpened summarises the opening of a fleet.
type fleetOpened struct {
	ok, failed int
	firstErr   string
	seconds    float64
	authTime   latency.Histogram
}

// idleFleet is a set of quiet authenticated connections spread over workers of at most
// connsPerWorker each. The workers own the connections; close stops them and waits.
type idleFleet struct {
	workers []*idleWorker
	wg      sync.WaitGroup
	reports chan openReport
	alive   chan int
	check   chan struct{}
	stop    chan struct{}
	closed  func()
}

// openFleet starts the workers and waits until every one has opened its connections.
// The fleet must be closed even when an error is returned.
func openFleet(ctx context.Context, spec fleetSpec, log *slog.Logger) (*idleFleet, fleetOpened, error) {
	runID := newRunID()
	dial := func(ctx context.Context, i int) (net.Conn, error) {
		d := net.Dialer{Timeout: spec.timeout, LocalAddr: spec.plan.local(i), Control: deferPortChoice}
		return d.DialContext(ctx, "tcp", spec.addr)
	}
	token := func(i int) string { return spec.tokens[i%len(spec.tokens)] }
	device := func(i int) string { return fmt.Sprintf("idle-%s-%d", runID, i) }

	var opened atomic.Int64
	f := &idleFleet{check: make(chan struct{}), stop: make(chan struct{})}
	f.closed = sync.OnceFunc(func() {
		close(f.stop)
		f.wg.Wait()
	})
	for first := 0; first < spec.conns; first += connsPerWorker {
		f.workers = append(f.workers, &idleWorker{first: first, n: min(connsPerWorker, spec.conns-first),
			dial: dial, token: token, device: device, timeout: spec.timeout, opened: &opened})
	}
	f.reports = make(chan openReport, len(f.workers))
	f.alive = make(chan int, len(f.workers))
	start := time.Now()
	for _, w := range f.workers {
		f.wg.Go(func() { w.run(ctx, f.reports, f.check, f.alive, f.stop) })
	}

	var res fleetOpened
	progress := time.NewTicker(5 * time.Second)
	defer progress.Stop()
	for done := 0; done < len(f.workers); {
		select {
		case r := <-f.reports:
			done++
			res.ok += r.ok
			res.failed += r.failed
			res.authTime.Merge(r.authTime)
			if r.err != nil && res.firstErr == "" {
				res.firstErr = r.err.Error()
			}
		case <-progress.C:
			log.Info("opening", "authenticated", opened.Load(), "of", spec.conns)
		case <-ctx.Done():
			return f, res, ctx.Err()
		}
	}
	res.seconds = time.Since(start).Seconds()
	return f, res, nil
}

// verify has every worker check its connections still answer, and counts those that do.
// It may be called once.
func (f *idleFleet) verify(ctx context.Context) (int, error) {
	close(f.check)
	alive := 0
	for range f.workers {
		select {
		case a := <-f.alive:
			alive += a
		case <-ctx.Done():
			return alive, ctx.Err()
		}
	}
	return alive, nil
}

// close closes every connection and waits for the workers; safe to call more than once.
func (f *idleFleet) close() { f.closed() }
