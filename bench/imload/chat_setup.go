package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/bangbang-im/bangbang/bench/latency"

	"github.com/bangbang-im/bangbang/bench/procstat"
)

// dialChat opens and authenticates one receiving connection per customer and cfg.Devices
// sending connections per merchant, each device id new to the server. The connections
// opened are returned even on failure, for the caller to close.
func dialChat(ctx context.Context, cfg chatConfig, addr string, tokens map[string]string, merchants, customers []string) (rx, tx []net.Conn, err error) {
	runID := newRunID()
	buf := make([]byte, 0, 512)
	perIP := cfg.PerSrc
	if perIP <= 0 {
		perIP = defaultPerIP()
	}
	plan, err := newSourcePlan(cfg.Sources, addr, perIP)
	if err != nil {
		return nil, nil, fmt.Errorf("chat: %w", err)
	}
	n := 0 // connections dialed, for their source address
	open := func(user, device string) (net.Conn, error) {
		d := net.Dialer{Timeout: cfg.Timeout, LocalAddr: plan.local(n), Control: deferPortChoice}
		n++
		c, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return nil, fmt.Errorf("chat: dial %s: %w", addr, err)
		}
		if _, buf, err = authenticate(c, buf, tokens[user], device, cfg.Timeout); err != nil {
			c.Close()
			return nil, fmt.Errorf("chat: %s/%s: %w", user, device, err)
		}
		return c, nil
	}
	// Receivers first: a message sent before its receiver is online would be synced, not
	// pushed, and never timed.
	for _, u := range customers {
		c, err := open(u, "chat-rx-"+runID)
		if err != nil {
			return rx, tx, err
		}
		rx = append(rx, c)
	}
	for _, u := range merchants {
		for d := range cfg.Devices {
			c, err := open(u, fmt.Sprintf("chat-tx-%s-%d", runID, d))
			if err != nil {
				return rx, tx, err
			}
			tx = append(tx, c)
		}
	}
	return rx, tx, nil
}

// perConnRate splits the asked rate over the sending connections, capped by ConnRate
// (the gateway refuses frames past its per-connection limit, which would measure the
// limiter instead of the path). 0 means unpaced.
func perConnRate(cfg chatConfig, senders int, log *slog.Logger) float64 {
	r := cfg.ConnRate
	if cfg.Rate > 0 {
		r = cfg.Rate / float64(senders)
		if cfg.ConnRate > 0 && r > cfg.ConnRate {
			log.Warn("asked rate exceeds the per-connection cap: raise --devices or --conn-rate",
				"asked_per_conn", r, "cap", cfg.ConnRate, "reachable", cfg.ConnRate*float64(senders))
			r = cfg.ConnRate
		}
	}
	return r
}

// sleepUntil waits for a point of the run's schedule.
func sleepUntil(ctx context.Context, t time.Time) error {
	timer := time.NewTimer(time.Until(t))
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(ctx context.Context, deadline time.Time, cond func() bool) error {
	const poll = 10 * time.Millisecond
	t := time.NewTicker(poll)
	defer t.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			return context.DeadlineExceeded
		}
		select {
		case <-t.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

type cpuPoint struct{ server, client time.Duration }

// sampleCPU reads the CPU time of the server (when known) and of this program.
func sampleCPU(serverPID int) cpuPoint {
	var p cpuPoint
	if serverPID > 0 {
		p.server, _ = procstat.CPU(serverPID)
	}
	p.client, _ = procstat.CPU(0)
	return p
}

// collect sums the per-connection statistics once every reader has stopped.
func collect(res *chatResult, senders []*sender, receivers []*receiver, window time.Duration) {
	var store, deliver latency.Histogram
	errs := map[string]int{}
	var storedInWin, deliveredInWin int64
	note := func(err error) {
		if err == nil {
			return
		}
		res.ConnErrors++
		if res.FirstError == "" {
			res.FirstError = err.Error()
		}
	}
	for _, s := range senders {
		store.Merge(&s.hist)
		res.Sent += s.sent
		res.Stored += s.stored
		storedInWin += s.storedInWin
		res.SelfPushes += s.selfPushes
		for code, n := range s.errs {
			errs[code.String()] += n
		}
		note(s.err)
		note(s.writeErr)
	}
	for _, r := range receivers {
		deliver.Merge(&r.hist)
		res.Delivered += r.delivered
		deliveredInWin += r.deliveredInWin
		res.Acks += r.acks
		note(r.err)
	}
	if len(errs) > 0 {
		res.Errors = errs
	}
	res.Undelivered = max(res.Stored-res.Delivered, 0)
	res.StoredPerSec = float64(storedInWin) / window.Seconds()
	res.DeliveredPerSec = float64(deliveredInWin) / window.Seconds()
	res.Store, res.Deliver = store.Summary(), deliver.Summary()
}
