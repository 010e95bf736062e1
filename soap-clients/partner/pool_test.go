package partner_test

import (
	"context"
	"net/http/httptrace"
	"sync"
	"testing"

	"github.com/hooklift/gowsdl/soap"

	genhousing "github.com/bangbang-im/bangbang/gen/soap/housing"
	"github.com/bangbang-im/bangbang/soap-clients/sim"
)

// connTrace counts the connections a request got, and how many were reused.
type connTrace struct {
	mu          sync.Mutex
	got, reused int
}

func (c *connTrace) ctx(parent context.Context) context.Context {
	return httptrace.WithClientTrace(parent, &httptrace.ClientTrace{
		GotConn: func(info httptrace.GotConnInfo) {
			c.mu.Lock()
			defer c.mu.Unlock()
			c.got++
			if info.Reused {
				c.reused++
			}
		},
	})
}

// TestConnectionReuse: the generated client asks to close the connection
// after each call; the partner client keeps it and reuses it, faults (sent
// with HTTP 500) included.
func TestConnectionReuse(t *testing.T) {
	s := startSim(t)
	c, port := newHousing(t, s)
	var tr connTrace
	ctx := tr.ctx(context.Background())
	for i := 0; i < 5; i++ {
		if _, err := leads(ctx, c, port, "m1001", 5); err != nil {
			t.Fatal(err)
		}
		if _, err := refresh(ctx, c, port, "m1001", "Lm1002-01"); err == nil {
			t.Fatal("refresh of another merchant's listing succeeded")
		}
	}
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if tr.got != 10 || tr.reused != 9 {
		t.Errorf("%d connections got, %d reused; want 10 and 9", tr.got, tr.reused)
	}
}

// TestBareClientDoesNotReuse shows the trap the partner client avoids: the
// generated client on a plain pooled http.Client still opens a connection
// per call.
func TestBareClientDoesNotReuse(t *testing.T) {
	s := startSim(t)
	hc := bareHTTPClient(t)
	port := genhousing.NewHousingPortType(soap.NewClient(s.URL(sim.Housing),
		soap.WithHTTPClient(hc), soap.WithBasicAuth(sim.DefaultPartnerID, sim.DefaultPartnerKey)))
	var tr connTrace
	ctx := tr.ctx(context.Background())
	for i := 0; i < 3; i++ {
		if _, err := port.ListLeadsContext(ctx, &genhousing.ListLeads{MerchantId: "m1001", PageSize: 5}); err != nil {
			t.Fatal(err)
		}
	}
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if tr.got != 3 || tr.reused != 0 {
		t.Errorf("%d connections got, %d reused; want 3 and 0", tr.got, tr.reused)
	}
}
