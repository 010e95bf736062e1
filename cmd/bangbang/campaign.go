package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/bangbang-im/bangbang/internal/health"
	"github.com/bangbang-im/bangbang/marketing/campaign"
	"github.com/bangbang-im/bangbang/marketing/ratelimit"
	"github.com/bangbang-im/bangbang/tracing"
)

// runCampaign is `bangbang campaign`: with a subcommand (ls, show, start, pause, resume,
// cancel, watch) a terminal client of the staff API; without one, the campaign worker
// alone, as a cluster runs it.
func runCampaign(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		return runCampaignCLI(ctx, args[0], args[1:], stdout, stderr)
	}
	c := defaults()
	c.LogicAddr = "127.0.0.1:8900"
	f := newFlagSet("campaign", stderr)
	f.common(&c)
	f.stores(&c)
	f.str(&c.LogicAddr, "logic-addr", "logic's Kitex address (unused with --etcd)")
	f.discovery(&c)
	c.MetricsAddr = "127.0.0.1:8904"
	f.metricsFlag(&c)
	if err := f.parse(args); err != nil {
		return err
	}
	return serve(ctx, "campaign", c.LogLevel, stderr, func(lc *lifecycle) error {
		tr, err := setupTracing(ctx, "bangbang-campaign", &c, false, lc)
		if err != nil {
			return err
		}
		reg := newRegistry(tr)
		lg, err := newLogicClient(&c, tr, "campaign")
		if err != nil {
			return err
		}
		cs, err := openCampaignStore(ctx, &c, tr, lc)
		if err != nil {
			return err
		}
		rc, err := openRedis(ctx, &c, lc)
		if err != nil {
			return err
		}
		if err := traceRedis(rc, tr.Provider("campaign")); err != nil {
			return err
		}
		w, err := startCampaignWorker(&c, cs, lg, rc, tr, reg, lc)
		if err != nil {
			return err
		}
		ready := health.New(0, lc.log.With("component", "readyz"), append([]health.Check{campaignsCheck(cs)}, redisCheck("redis", rc)...)...)
		if err := serveMetrics(c.MetricsAddr, reg, ready, lc); err != nil {
			return err
		}
		lc.log.Info("campaign worker: ready", "owner", w.Owner(), "logic", c.LogicAddr)
		return nil
	})
}

// openCampaignStore opens marketing's store: PostgreSQL when a URL is configured (the
// same database as the IM store, tables of its own), else its own SQLite file under the
// data dir.
func openCampaignStore(ctx context.Context, c *config, tr *tracing.Tracing, lc *lifecycle) (*campaign.Store, error) {
	opt := campaign.Options{Logger: lc.log.With("component", "campaign-store")}
	if tr != nil {
		opt.QueryTracer = queryTracer(tr.Provider("campaign"))
	}
	st, err := openCampaignStoreOpt(ctx, c, opt)
	if err != nil {
		return nil, err
	}
	lc.add("campaign store", func(context.Context) error { return st.Close() })
	return st, nil
}

func openCampaignStoreOpt(ctx context.Context, c *config, opt campaign.Options) (*campaign.Store, error) {
	if c.DatabaseURL != "" {
		st, err := campaign.OpenPostgres(ctx, c.DatabaseURL, opt)
		if err != nil {
			return nil, fmt.Errorf("open campaign store (PostgreSQL): %w", err)
		}
		return st, nil
	}
	if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	path := filepath.Join(c.DataDir, "campaigns.db")
	st, err := campaign.OpenSQLite(ctx, path, opt)
	if err != nil {
		return nil, fmt.Errorf("open campaign store %s: %w", path, err)
	}
	return st, nil
}

// startCampaignWorker runs the campaign worker, paced on Redis when there is one (so the
// cap holds whichever worker sends) and in process otherwise.
func startCampaignWorker(c *config, cs *campaign.Store, lg campaign.Logic, rc *redis.Client, tr *tracing.Tracing,
	reg prometheus.Registerer, lc *lifecycle) (*campaign.Worker, error) {
	m, err := campaign.NewMetrics(reg, cs)
	if err != nil {
		return nil, err
	}
	var pacer ratelimit.Pacer = ratelimit.NewLocalPacer(nil)
	if rc != nil {
		pacer = ratelimit.NewRedisPacer(rc, c.redisKey("pace:"))
	}
	w := campaign.NewWorker(campaign.WorkerConfig{TracerProvider: tr.Provider("campaign"), Metrics: m},
		cs, lg, pacer, lc.log.With("component", "campaign"))
	w.Start()
	lc.add("campaign worker", w.Stop)
	return w, nil
}

// demoMerchants are the demo merchants' audience attributes: varied, so that segments
// mean something out of the box.
func demoMerchants() []campaign.Merchant {
	cities := []string{"Shanghai", "Beijing", "Shenzhen", "Hangzhou", "Chengdu"}
	categories := []string{"housing", "recruitment", "home-services", "housing"}
	tagSets := [][]string{{"vip"}, {"new"}, {"vip", "active"}, {}, {"active"}, {"churn-risk"}}
	var ms []campaign.Merchant
	for i := 0; i < 20; i++ {
		ms = append(ms, campaign.Merchant{ID: fmt.Sprintf("m%d", 1001+i), Name: fmt.Sprintf("Merchant %d", 1001+i),
			City: cities[i%len(cities)], Category: categories[i%len(categories)], Tags: tagSets[i%len(tagSets)]})
	}
	return ms
}

// seedDemoMerchants puts the demo merchants in the audience (their IM accounts come from
// seedDemo). Attributes are set each start; other merchants are left alone.
func seedDemoMerchants(ctx context.Context, cs *campaign.Store, log *slog.Logger) error {
	ms := demoMerchants()
	for i := range ms {
		if err := campaign.ValidateMerchant(&ms[i]); err != nil {
			return fmt.Errorf("demo merchant %s: %w", ms[i].ID, err)
		}
	}
	created, _, err := cs.UpsertMerchants(ctx, ms)
	if err != nil {
		return fmt.Errorf("seed demo merchants: %w", err)
	}
	log.Info("demo: merchant audience", "merchants", len(ms), "created", created)
	return nil
}
