package main

import (
	"context"
	"io"

	"github.com/bangbang-im/bangbang/internal/health"
	"github.com/bangbang-im/bangbang/marketing/admin"
	"github.com/bangbang-im/bangbang/marketing/campaign"
	"github.com/bangbang-im/bangbang/tracing"
)

// runAdmin runs the staff API alone, as a cluster runs it: the embedded trace store that
// the other processes export to (OTLP over HTTP at /v1/traces, with a staff key), the
// trace API and pages, and /metrics of its own process.
func runAdmin(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 1 && args[0] == "key" && args[1] == "create" {
		return runAdminKeyCreate(ctx, args[2:], stdout, stderr)
	}
	c := defaults()
	c.LogicAddr = "127.0.0.1:8900"
	f := newFlagSet("admin", stderr)
	f.str(&c.AdminAddr, "admin-addr", "staff API listen address")
	f.adminTLS(&c)
	f.str(&c.LogLevel, "log-level", "debug, info, warn or error")
	f.str(&c.DataDir, "data-dir", "directory of the embedded campaign store (campaigns.db) when no database URL is set")
	f.database(&c)
	f.str(&c.LogicAddr, "logic-addr", "logic's Kitex address (test-sends, merchant accounts; unused with --etcd)")
	f.discovery(&c)
	if err := f.parse(args); err != nil {
		return err
	}
	if err := c.loadAdminTLS(); err != nil {
		return err
	}
	return serve(ctx, "admin", c.LogLevel, stderr, func(lc *lifecycle) error {
		tr, err := setupTracing(ctx, "bangbang-admin", &c, true, lc)
		if err != nil {
			return err
		}
		reg := newRegistry(tr)
		cs, err := openCampaignStore(ctx, &c, tr, lc)
		if err != nil {
			return err
		}
		lg, err := newLogicClient(&c, tr, "admin")
		if err != nil {
			return err
		}
		if _, err := campaign.NewMetrics(reg, cs); err != nil {
			return err
		}
		hm, err := tracing.NewHTTPMetrics(reg)
		if err != nil {
			return err
		}
		logins, err := adminLogins(reg, nil, lc.log)
		if err != nil {
			return err
		}
		adm, err := admin.New(admin.Config{Addr: c.AdminAddr, Keys: []string{adminKey(stdout)}, TLS: c.adminTLS},
			admin.Deps{Traces: tr.Store(), Metrics: reg, HTTPMetrics: hm, TracerProvider: tr.Provider("admin"), Logins: logins,
				Propagator: tr.Propagator(), Campaigns: cs, Logic: lg, Logger: lc.log.With("component", "admin"),
				Ready: health.New(0, lc.log.With("component", "readyz"), campaignsCheck(cs))})
		if err != nil {
			return err
		}
		if err := adm.Start(); err != nil {
			return err
		}
		lc.add("admin", adm.Shutdown)
		lc.log.Info("admin: ready", "addr", c.AdminAddr)
		return nil
	})
}
