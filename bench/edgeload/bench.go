package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Phase names.
const (
	phaseEdge      = "edge"
	phaseBare      = "bare"
	phaseEdgeRedis = "edge-redis"
)

// target is one phase's way of calling the action.
type target struct {
	name  string
	meter meter
	// client builds the phase's caller on a fresh pool; dials counts its connections.
	client func(hc *http.Client) func(context.Context, int) error
	conns  int // pool size
}

// bench logs in, runs every round of every phase and summarises them.
func bench(ctx context.Context, cfg config, log *slog.Logger) (report, error) {
	act := actions(time.Now().UTC())[cfg.Action]
	merchants := demoMerchants(cfg.Merchants)
	targets, closeAll, err := buildTargets(ctx, cfg, act, merchants)
	if err != nil {
		return report{}, err
	}
	defer closeAll()

	rep := newReport(cfg)
	if cfg.Rate > 0 {
		if rep.LoopUS, err = loopOverhead(ctx, cfg); err != nil {
			return rep, err
		}
	}
	for r := range cfg.Rounds {
		order := targets
		if r%2 == 1 { // alternate, so a drift of the machine's load favours no phase
			order = reversed(targets)
		}
		for _, t := range order {
			log.Info("phase", "round", r+1, "phase", t.name, "action", act.Name, "concurrency", cfg.Concurrency, "rate", cfg.Rate, "duration", cfg.Duration)
			res, dials, err := runTarget(ctx, cfg, t)
			if err != nil {
				return rep, fmt.Errorf("round %d phase %s: %w", r+1, t.name, err)
			}
			rep.add(res, dials)
		}
	}
	rep.finish()
	return rep, nil
}

// loopOverhead is this program's CPU per call of the load loop alone, in microseconds: the
// pacing's timers and wake-ups, measured with a call that does nothing at the same rate
// and concurrency. Paced, it is tens of microseconds a call, charged to this program in
// every phase, which would pass for the bare client's cost; closed loop it is a fraction
// of a microsecond and is not measured.
func loopOverhead(ctx context.Context, cfg config) (float64, error) {
	res, err := runPhase(ctx, phaseSpec{Name: "loop", Concurrency: cfg.Concurrency, Rate: cfg.Rate,
		Warmup: cfg.Warmup, Duration: cfg.Duration, Call: func(context.Context, int) error { return nil }})
	if err != nil {
		return 0, fmt.Errorf("loop overhead: %w", err)
	}
	return perAction(res.Cost.CPU, res.OK)[roleSelf], nil
}

// runTarget runs one phase on its own pool, closed when the phase ends.
func runTarget(ctx context.Context, cfg config, t target) (phaseResult, int64, error) {
	var dials atomic.Int64
	pool := newPool(t.conns, &dials)
	defer pool.CloseIdleConnections()
	hc := &http.Client{Transport: pool, Timeout: cfg.Timeout}
	if t.name == phaseBare {
		hc.Transport = keepAlive{base: pool}
	}
	res, err := runPhase(ctx, phaseSpec{Name: t.name, Concurrency: cfg.Concurrency, Rate: cfg.Rate,
		Warmup: cfg.Warmup, Duration: cfg.Duration, Meter: t.meter, Call: t.client(hc)})
	return res, dials.Load(), err
}

func buildTargets(ctx context.Context, cfg config, act action, merchants []string) ([]target, func(), error) {
	lhc := &http.Client{Timeout: 10 * time.Second}
	defer lhc.CloseIdleConnections()
	var targets []target
	edgeTarget := func(name, base string, pid int, rs *redisStats) error {
		tokens, err := login(ctx, lhc, base, cfg.Password, merchants)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		targets = append(targets, target{name: name, conns: cfg.Concurrency,
			meter: meter{pids: map[string]int{roleEdge: pid, roleSim: cfg.SimPID}, redis: rs},
			client: func(hc *http.Client) func(context.Context, int) error {
				return newEdgeClient(hc, base, act, merchants, tokens).call
			}})
		return nil
	}
	if err := edgeTarget(phaseEdge, cfg.Edge, cfg.EdgePID, nil); err != nil {
		return nil, nil, err
	}
	closeAll := func() {}
	if cfg.EdgeRedis != "" {
		var rs *redisStats
		if cfg.RedisAddr != "" {
			rc := redis.NewClient(&redis.Options{Addr: cfg.RedisAddr})
			closeAll = func() { _ = rc.Close() }
			rs = &redisStats{c: rc}
		}
		if err := edgeTarget(phaseEdgeRedis, cfg.EdgeRedis, cfg.RedisPID, rs); err != nil {
			closeAll()
			return nil, nil, err
		}
	}
	endpoint := lineURL(act.Line, cfg.HousingURL, cfg.AccountURL)
	targets = append(targets, target{name: phaseBare, conns: cfg.BareConns,
		meter: meter{pids: map[string]int{roleSim: cfg.SimPID}},
		client: func(hc *http.Client) func(context.Context, int) error {
			return newBareClient(hc, endpoint, cfg.PartnerID, cfg.PartnerKey, act, merchants).call
		}})
	return targets, closeAll, nil
}

func reversed(ts []target) []target {
	out := make([]target, len(ts))
	for i, t := range ts {
		out[len(ts)-1-i] = t
	}
	return out
}
