package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/bangbang-im/bangbang/bench/latency"
)

// idleConfig configures the idle mode.
type idleConfig struct {
	target
	Conns     int           // connections to open
	Sources   string        // source addresses: "auto", "none" or a list (see newSourcePlan)
	PerSource int           // connections per source address; 0 means 3/4 of the ephemeral range
	Timeout   time.Duration // per dial and per awaited answer
	Settle    time.Duration // how long to wait for the server's memory to settle
	Hold      time.Duration // keep the connections this long after measuring
	Verify    bool          // check every connection is still authenticated after measuring
}

// idleResult is what the idle mode reports; the JSON line carries it whole.
type idleResult struct {
	Mode             string          `json:"mode"`
	Conns            int             `json:"conns"`
	Authenticated    int             `json:"authenticated"`
	Failed           int             `json:"failed"`
	Alive            int             `json:"alive_after_measure"` // -1: not checked
	FirstError       string          `json:"first_error,omitempty"`
	Workers          int             `json:"workers"`
	SourceAddrs      int             `json:"source_addrs"`
	OpenSeconds      float64         `json:"open_seconds"`
	ConnectsPerSec   float64         `json:"connects_per_sec"`
	Login            latency.Summary `json:"dial_to_auth_ok"` // pipelined: includes queueing behind the batch
	ServerPID        int             `json:"server_pid"`
	ServerBefore     memSample       `json:"server_before"`
	ServerAfter      memSample       `json:"server_after"`
	ServerRSSPerConn float64         `json:"server_rss_per_conn_bytes"`
	ServerAnonPer    float64         `json:"server_anon_per_conn_bytes"`
	Unsettled        bool            `json:"unsettled,omitempty"` // the server's RSS kept moving
	KernelTCPPerConn float64         `json:"kernel_tcp_per_conn_bytes"`
	ClientBefore     memSample       `json:"client_before"`
	ClientAfter      memSample       `json:"client_after"`
	ClientRSSPerConn float64         `json:"client_rss_per_conn_bytes"`
}

// runIdle opens cfg.Conns quiet authenticated connections and measures what they cost the
// server. Every goroutine it starts has stopped, and every connection is closed, when it
// returns.
func runIdle(ctx context.Context, cfg idleConfig, log *slog.Logger) (idleResult, error) {
	res := idleResult{Mode: "idle", Conns: cfg.Conns, Alive: -1, ServerPID: cfg.ServerPID}
	if cfg.Conns <= 0 {
		return res, fmt.Errorf("idle: --conns must be positive")
	}
	if cfg.PerSource <= 0 {
		cfg.PerSource = defaultPerIP()
	}
	lim, err := raiseNoFile(cfg.Conns)
	if err != nil {
		return res, fmt.Errorf("idle: %w", err)
	}
	log.Info("file descriptors", "limit", lim)
	merchants, customers := demoUsersFrom(cfg.UserOffset, cfg.DemoUsers)
	users := append(merchants, customers...)
	tokens, addr, err := cfg.tokensFor(ctx, users)
	if err != nil {
		return res, fmt.Errorf("idle: %w", err)
	}
	plan, err := newSourcePlan(cfg.Sources, addr, cfg.PerSource)
	if err != nil {
		return res, fmt.Errorf("idle: %w", err)
	}
	if cfg.Conns > plan.capacity() {
		return res, fmt.Errorf("idle: %d connections, but %d source addresses × %d: %w", cfg.Conns, max(len(plan.ips), 1), plan.perIP, ErrCapacity)
	}
	res.SourceAddrs = plan.used(cfg.Conns)

	before, err := serverMem(ctx, cfg, log, "before")
	if err != nil {
		return res, err
	}
	res.ServerBefore = before.mem
	res.ClientBefore, _ = readMem(0)

	tokenList := make([]string, len(users))
	for i, u := range users {
		tokenList[i] = tokens[u]
	}
	fleet, opened, err := openFleet(ctx, fleetSpec{conns: cfg.Conns, addr: addr, plan: plan, tokens: tokenList, timeout: cfg.Timeout}, log)
	defer fleet.close()
	if err != nil {
		return res, fmt.Errorf("idle: %w", err)
	}
	res.Workers = len(fleet.workers)
	res.Authenticated, res.Failed, res.FirstError = opened.ok, opened.failed, opened.firstErr
	res.OpenSeconds = opened.seconds
	res.ConnectsPerSec = float64(res.Authenticated) / res.OpenSeconds
	res.Login = opened.authTime.Summary()
	log.Info("connections open", "authenticated", res.Authenticated, "failed", res.Failed, "seconds", res.OpenSeconds)
	if res.Authenticated == 0 {
		return res, fmt.Errorf("idle: no connection authenticated: %s", res.FirstError)
	}

	after, err := serverMem(ctx, cfg, log, "after")
	if err != nil {
		return res, err
	}
	res.ServerAfter, res.Unsettled = after.mem, after.unsettled || before.unsettled
	res.ClientAfter, _ = readMem(0)
	n := float64(res.Authenticated)
	if cfg.ServerPID > 0 {
		res.ServerRSSPerConn = float64(res.ServerAfter.RSS-res.ServerBefore.RSS) / n
		res.ServerAnonPer = float64(res.ServerAfter.RSSAnon-res.ServerBefore.RSSAnon) / n
	}
	res.KernelTCPPerConn = float64(after.kernel-before.kernel) / n
	res.ClientRSSPerConn = float64(res.ClientAfter.RSS-res.ClientBefore.RSS) / n

	if cfg.Verify {
		if res.Alive, err = fleet.verify(ctx); err != nil {
			return res, fmt.Errorf("idle: verify: %w", err)
		}
	}
	if cfg.Hold > 0 {
		log.Info("holding the connections", "for", cfg.Hold)
		t := time.NewTimer(cfg.Hold)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
		}
	}
	return res, nil
}

type memPoint struct {
	mem       memSample
	kernel    int64
	unsettled bool
}

// serverMem samples the server once its RSS has settled (no server: zeros) and the
// kernel's TCP memory.
func serverMem(ctx context.Context, cfg idleConfig, log *slog.Logger, when string) (memPoint, error) {
	var p memPoint
	if cfg.ServerPID > 0 {
		rss, err := settle(ctx, func() (int64, error) {
			m, err := readMem(cfg.ServerPID)
			p.mem = m
			return m.RSS, err
		}, 500*time.Millisecond, cfg.Settle, 5, 0.005)
		switch {
		case errors.Is(err, ErrUnstable):
			p.unsettled = true
			log.Warn("server memory did not settle; taking the last sample", "when", when, "rss", rss)
		case err != nil:
			return p, fmt.Errorf("idle: server memory %s: %w", when, err)
		}
		log.Info("server memory", "when", when, "rss_mib", float64(p.mem.RSS)/(1<<20))
	}
	p.kernel, _ = kernelTCPMem()
	return p, nil
}
