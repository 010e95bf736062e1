package partner_test

import (
	"context"
	"errors"
	"math"
	"testing"

	"github.com/sony/gobreaker/v2"

	"github.com/bangbang-im/bangbang/soap-clients/partner"
)

func TestNewRefusesBadConfig(t *testing.T) {
	good := partner.Config{Name: "housing", Namespace: nsHousing, Endpoint: "http://127.0.0.1:8600/soap/housing/v1"}
	for name, adjust := range map[string]func(*partner.Config){
		"no name":            func(c *partner.Config) { c.Name = "" },
		"no namespace":       func(c *partner.Config) { c.Namespace = "" },
		"no endpoint":        func(c *partner.Config) { c.Endpoint = "" },
		"relative endpoint":  func(c *partner.Config) { c.Endpoint = "/soap/housing/v1" },
		"ftp endpoint":       func(c *partner.Config) { c.Endpoint = "ftp://example.com/x" },
		"id without key":     func(c *partner.Config) { c.PartnerID = "bangbang" },
		"negative timeout":   func(c *partner.Config) { c.Timeout = -1 },
		"negative limit":     func(c *partner.Config) { c.MaxResponseBytes = -1 },
		"retries -2":         func(c *partner.Config) { c.ReadRetries = -2 },
		"budget over 1":      func(c *partner.Config) { c.RetryBudget = 1.5 },
		"budget NaN":         func(c *partner.Config) { c.RetryBudget = math.NaN() },
		"ratio negative":     func(c *partner.Config) { c.BreakerFailureRatio = -0.1 },
		"negative open time": func(c *partner.Config) { c.BreakerOpenTimeout = -1 },
		"negative conns":     func(c *partner.Config) { c.MaxConnsPerHost = -1 },
	} {
		t.Run(name, func(t *testing.T) {
			cfg := good
			adjust(&cfg)
			if _, err := partner.New(cfg); !errors.Is(err, partner.ErrConfig) {
				t.Fatalf("New: %v, want ErrConfig", err)
			}
		})
	}
	c, err := partner.New(good)
	if err != nil {
		t.Fatalf("New(good): %v", err)
	}
	defer c.Close()
	if c.Name() != "housing" || c.SOAP == nil || c.BreakerState() != gobreaker.StateClosed {
		t.Errorf("client %q, SOAP %v, breaker %v", c.Name(), c.SOAP, c.BreakerState())
	}
}

// TestDoNilClient: a line left unconfigured is unavailable, not a panic.
func TestDoNilClient(t *testing.T) {
	_, err := partner.Do(context.Background(), nil, "ListLeads", true, func(context.Context) (int, error) {
		t.Fatal("call ran without a client")
		return 0, nil
	})
	wantErr(t, err, partner.ErrUnavailable)
}
