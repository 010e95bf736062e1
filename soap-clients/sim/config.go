package sim

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// The three business lines, as the line argument of URL, SetFaults and Calls.
const (
	Housing     = "housing"
	Recruitment = "recruitment"
	Account     = "account"
)

// Lines lists the line names in port order (8600, 8601, 8602).
func Lines() []string { return []string{Housing, Recruitment, Account} }

// Default credentials, used when Config leaves them empty, so that
// bangbang all and its clients agree without configuration.
const (
	DefaultPartnerID  = "bangbang"
	DefaultPartnerKey = "bangbang-sim-key"
)

// ErrConfig is wrapped by New for an invalid Config.
var ErrConfig = errors.New("sim: invalid config")

// ErrUnknownLine is wrapped by the methods that take a line name.
var ErrUnknownLine = errors.New("sim: unknown line")

// Config configures a Sim. The zero value is usable.
type Config struct {
	// HousingAddr, RecruitmentAddr, AccountAddr are listen addresses; empty
	// means :8600, :8601 and :8602. Tests pass 127.0.0.1:0.
	HousingAddr, RecruitmentAddr, AccountAddr string

	// PartnerID and PartnerKey are the HTTP Basic credentials every SOAP call
	// must carry. Empty means DefaultPartnerID and DefaultPartnerKey.
	PartnerID, PartnerKey string

	// TracerProvider, when set, gives every server a span per request that
	// joins the caller's trace (W3C traceparent, read with Propagators).
	TracerProvider trace.TracerProvider

	// Propagators read the trace context of incoming requests; nil means
	// W3C trace context and baggage. Used only with a TracerProvider.
	Propagators propagation.TextMapPropagator

	// Logger receives server errors and, at debug level, each call. Nil
	// discards.
	Logger *slog.Logger

	// Now is the clock of the simulated world (refresh days, promotions,
	// timestamps in answers); nil means time.Now. Tests fix it to get
	// byte-stable answers.
	Now func() time.Time

	// MaxRequestBytes bounds a request body; 0 means 1 MiB.
	MaxRequestBytes int64
}

func (c Config) withDefaults() (Config, error) {
	if c.HousingAddr == "" {
		c.HousingAddr = ":8600"
	}
	if c.RecruitmentAddr == "" {
		c.RecruitmentAddr = ":8601"
	}
	if c.AccountAddr == "" {
		c.AccountAddr = ":8602"
	}
	if c.PartnerID == "" && c.PartnerKey == "" {
		c.PartnerID, c.PartnerKey = DefaultPartnerID, DefaultPartnerKey
	}
	if c.PartnerID == "" || c.PartnerKey == "" {
		return c, fmt.Errorf("%w: PartnerID and PartnerKey must be set together", ErrConfig)
	}
	if c.Propagators == nil {
		c.Propagators = propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.MaxRequestBytes < 0 {
		return c, fmt.Errorf("%w: MaxRequestBytes %d is negative", ErrConfig, c.MaxRequestBytes)
	}
	if c.MaxRequestBytes == 0 {
		c.MaxRequestBytes = 1 << 20
	}
	return c, nil
}
