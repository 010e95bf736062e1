package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/bangbang-im/bangbang/marketing/edge"
	"github.com/bangbang-im/bangbang/marketing/idempotency"
	"github.com/bangbang-im/bangbang/marketing/ratelimit"
	"github.com/bangbang-im/bangbang/soap-clients/account"
	"github.com/bangbang-im/bangbang/soap-clients/housing"
	"github.com/bangbang-im/bangbang/soap-clients/partner"
	"github.com/bangbang-im/bangbang/soap-clients/recruitment"
	"github.com/bangbang-im/bangbang/soap-clients/sim"
	"github.com/bangbang-im/bangbang/tracing"
)

// partnerTimeout is the edge's whole budget for one third-party call, retries included;
// the idempotency lease outlives it so a claim never lapses while its call runs.
const (
	partnerTimeout   = 3 * time.Second
	idempotencyLease = 30 * time.Second
)

// partnerFlags say where the third parties' SOAP services are and how to authenticate.
type partnerFlags struct {
	housingURL, recruitmentURL, accountURL string
	id, key                                string
	rateLimits                             string // overrides of ratelimit.DefaultLimits
}

func (f *flagSet) partnerFlags(p *partnerFlags) {
	p.housingURL = "http://127.0.0.1:8600/soap/housing/v1"
	p.recruitmentURL = "http://127.0.0.1:8601/soap/recruitment/v1"
	p.accountURL = "http://127.0.0.1:8602/soap/account/v1"
	f.str(&p.housingURL, "housing-url", "housing SOAP endpoint")
	f.str(&p.recruitmentURL, "recruitment-url", "recruitment SOAP endpoint")
	f.str(&p.accountURL, "account-url", "account SOAP endpoint")
	f.str(&p.id, "partner-id", "HTTP Basic user of the third-party services (empty: the simulators' default)")
	f.str(&p.key, "partner-key", "HTTP Basic password of the third-party services")
	f.rateLimitFlag(p)
}

func (f *flagSet) rateLimitFlag(p *partnerFlags) {
	f.str(&p.rateLimits, "rate-limits", "limits overriding the defaults (per merchant: read, refresh, promote, purchase; login per account, login-addr per client address), e.g. read=600/1m:100,promote=40/1h:10,login-addr=300/1m:100")
}

// marketingDeps builds what the edge's marketing routes need: one SOAP client per third
// party, the per-merchant limiter and the idempotency keys (in Redis when configured, so
// several edges share them).
func marketingDeps(c *config, p partnerFlags, rc *redis.Client, tr *tracing.Tracing, reg prometheus.Registerer, lc *lifecycle, log *slog.Logger) (edge.Deps, error) {
	if p.id == "" && p.key == "" {
		p.id, p.key = sim.DefaultPartnerID, sim.DefaultPartnerKey
	}
	pm, err := partner.NewMetrics(reg)
	if err != nil {
		return edge.Deps{}, fmt.Errorf("soap metrics: %w", err)
	}
	rm, err := ratelimit.NewMetrics(reg)
	if err != nil {
		return edge.Deps{}, fmt.Errorf("rate limit metrics: %w", err)
	}
	em, err := tracing.NewHTTPMetrics(reg)
	if err != nil {
		return edge.Deps{}, fmt.Errorf("edge metrics: %w", err)
	}
	// The SOAP client span is below the edge's request span: in a trace that is not kept
	// (a read, sampled like chat) it is not even started (ChildOnly).
	base := func(endpoint string) partner.Config {
		return partner.Config{Endpoint: endpoint, PartnerID: p.id, PartnerKey: p.key, Timeout: partnerTimeout,
			TracerProvider: tracing.ChildOnly(tr.Provider("edge")), Propagators: tr.Propagator(), Metrics: pm, Logger: log.With("component", "soap")}
	}
	lm, err := ratelimit.NewLoginMetrics(reg)
	if err != nil {
		return edge.Deps{}, fmt.Errorf("login metrics: %w", err)
	}
	d := edge.Deps{TracerProvider: tr.Provider("edge"), Propagator: tr.Propagator(), Metrics: em, LoginMetrics: lm}
	if d.Housing, err = housing.New(base(p.housingURL)); err != nil {
		return d, fmt.Errorf("housing client: %w", err)
	}
	if d.Recruitment, err = recruitment.New(base(p.recruitmentURL)); err != nil {
		return d, fmt.Errorf("recruitment client: %w", err)
	}
	if d.Account, err = account.New(base(p.accountURL)); err != nil {
		return d, fmt.Errorf("account client: %w", err)
	}
	lc.add("soap clients", func(context.Context) error {
		d.Housing.Close()
		d.Recruitment.Close()
		d.Account.Close()
		return nil
	})
	limits, err := ratelimit.ParseLimits(p.rateLimits)
	if err != nil {
		return d, err
	}
	opts := ratelimit.Options{Logger: log.With("component", "ratelimit"), Metrics: rm}
	if rc != nil {
		opts.KeyPrefix = c.redisKey("rl:")
		d.Limiter = ratelimit.NewRedis(rc, limits, opts)
		d.Idempotency = idempotency.NewRedis(rc, idempotency.Options{Prefix: c.redisKey("idem:")})
	} else {
		d.Limiter = ratelimit.NewLocal(limits, opts)
		d.Idempotency = idempotency.NewMemory(idempotency.Options{})
	}
	return d, nil
}

// adminLogins is the staff login's throttle: on limiter (the edge's, sharing Redis, in one
// process), or on a limiter of its own in the admin process.
func adminLogins(reg prometheus.Registerer, limiter ratelimit.Limiter, log *slog.Logger) (*ratelimit.LoginGuard, error) {
	lm, err := ratelimit.NewLoginMetrics(reg)
	if err != nil {
		return nil, fmt.Errorf("login metrics: %w", err)
	}
	if limiter == nil {
		limiter = ratelimit.NewLocal(ratelimit.DefaultLimits(), ratelimit.Options{Logger: log.With("component", "ratelimit")})
	}
	return ratelimit.NewLoginGuard(limiter, "admin", lm), nil
}
