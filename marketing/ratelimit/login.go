package ratelimit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/bangbang-im/bangbang/tracing"
)

// LoginGuard throttles password and key guessing: every login attempt is charged to the
// account's budget (ClassLogin) and to the client address's (ClassLoginAddr), before the
// credential is checked, so a guesser who runs out is refused even the right password
// until the budget refills. Budgets are shared through Redis when the Limiter is a
// RedisLimiter, else per process.
type LoginGuard struct {
	limiter Limiter
	api     string // "edge" or "admin", the metrics label
	metrics *LoginMetrics
}

// NewLoginGuard returns a guard over l (which must have ClassLogin and ClassLoginAddr
// limits) for the login of api; m may be nil.
func NewLoginGuard(l Limiter, api string, m *LoginMetrics) *LoginGuard {
	return &LoginGuard{limiter: l, api: api, metrics: m}
}

// Check charges one attempt on account ("" when the login names none, as a staff key does)
// from remote (host:port or host). A refused Decision carries the Retry-After; scope says
// which budget refused ("account" or "address"). An error is no decision (a canceled
// context): the caller answers 503.
func (g *LoginGuard) Check(ctx context.Context, account, remote string) (d Decision, scope string, err error) {
	if account != "" {
		d, err = g.limiter.Allow(ctx, accountKey(account), ClassLogin)
		if err != nil || !d.Allowed {
			g.count("throttled")
			return d, "account", err
		}
	}
	d, err = g.limiter.Allow(ctx, addressKey(remote), ClassLoginAddr)
	if err == nil && !d.Allowed {
		g.count("throttled")
		return d, "address", nil
	}
	return d, "", err
}

// Failed and Succeeded count the outcome of an attempt Check let through.
func (g *LoginGuard) Failed()    { g.count("failed") }
func (g *LoginGuard) Succeeded() { g.count("ok") }

func (g *LoginGuard) count(result string) {
	if g.metrics != nil {
		g.metrics.attempts.WithLabelValues(g.api, result).Inc()
	}
}

// accountKey is a fixed-size, printable key for any user id (ids may hold any UTF-8).
func accountKey(user string) string {
	sum := sha256.Sum256([]byte(user))
	return "acct-" + hex.EncodeToString(sum[:12])
}

// addressKey is the client's IP (the port dropped; an IPv6 address by its /64, which one
// host usually holds whole).
func addressKey(remote string) string {
	host := remote
	if h, _, err := net.SplitHostPort(remote); err == nil {
		host = h
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	switch {
	case ip == nil:
		sum := sha256.Sum256([]byte(remote))
		return "addr-" + hex.EncodeToString(sum[:12])
	case ip.To4() != nil:
		return "ip-" + ip.To4().String()
	default:
		return "ip6-" + ip.Mask(net.CIDRMask(64, 128)).String()
	}
}

// LoginMetrics counts login attempts by outcome.
type LoginMetrics struct {
	attempts *prometheus.CounterVec
}

// NewLoginMetrics registers bangbang_login_attempts_total{api, result}: result ok, failed
// (a wrong password or key) or throttled (refused by LoginGuard before any check).
func NewLoginMetrics(reg prometheus.Registerer) (*LoginMetrics, error) {
	c, err := tracing.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "bangbang_login_attempts_total",
		Help: "Login attempts on the merchant (edge) and staff (admin) APIs, by result: ok, failed, throttled.",
	}, []string{"api", "result"}))
	if err != nil {
		return nil, err
	}
	return &LoginMetrics{attempts: c}, nil
}
