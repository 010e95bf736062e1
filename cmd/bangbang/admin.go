package main

import (
	"context"
	"io"

	"github.com/bangbang-im/bangbang/marketing/admin"
	"github.com/bangbang-im/bangbang/tracing"
)

// runAdmin runs the staff API alone, as a cluster runs it: the embedded trace store that
// the other processes export to (OTLP over HTTP at /v1/traces, with a staff key), the
// trace API and pages, and /metrics of its own process.
func runAdmin(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c := defaults()
	f := newFlagSet("admin", stderr)
	f.str(&c.AdminAddr, "admin-addr", "staff API listen address")
	f.str(&c.LogLevel, "log-level", "debug, info, warn or error")
	if err := f.parse(args); err != nil {
		return err
	}
	return serve(ctx, "admin", c.LogLevel, stderr, func(lc *lifecycle) error {
		tr, err := setupTracing(ctx, "bangbang-admin", c.ChatRatio, true, lc)
		if err != nil {
			return err
		}
		reg := newRegistry()
		hm, err := tracing.NewHTTPMetrics(reg)
		if err != nil {
			return err
		}
		adm, err := admin.New(admin.Config{Addr: c.AdminAddr, Keys: []string{adminKey(stdout)}},
			admin.Deps{Traces: tr.Store(), Metrics: reg, HTTPMetrics: hm, TracerProvider: tr.Provider("admin"),
				Propagator: tr.Propagator(), Logger: lc.log.With("component", "admin")})
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
