package partner_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	genhousing "github.com/bangbang-im/bangbang/gen/soap/housing"
	"github.com/bangbang-im/bangbang/soap-clients/partner"
	"github.com/bangbang-im/bangbang/soap-clients/sim"
)

// TestBadResponses: an HTML error page, XML that breaks off and a body that
// never ends are each ErrBadResponse, within the deadline; the endless one
// ends because the client closes its connection.
func TestBadResponses(t *testing.T) {
	for _, tc := range []struct {
		name   string
		faults sim.Faults
	}{
		{"html 500", sim.Faults{HTMLErrorRate: 1}},
		{"malformed", sim.Faults{MalformedRate: 1}},
		{"endless", sim.Faults{EndlessRate: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startSim(t)
			if err := s.SetFaults(sim.Housing, tc.faults); err != nil {
				t.Fatal(err)
			}
			const timeout = 5 * time.Second
			c, port := newHousing(t, s, func(cfg *partner.Config) {
				cfg.Timeout = timeout
				cfg.MaxResponseBytes = 64 << 10
			})
			start := time.Now()
			_, err := leads(context.Background(), c, port, "m1001", 5)
			elapsed := time.Since(start)
			wantErr(t, err, partner.ErrBadResponse)
			if elapsed >= timeout {
				t.Errorf("took %v, deadline %v", elapsed, timeout)
			}
			// A read: retried, twice by default.
			if got := s.Calls(sim.Housing, "ListLeads"); got != 3 {
				t.Errorf("ListLeads calls = %d, want 3", got)
			}
			waitFor(t, "the sim to stop streaming", func() bool {
				st, _ := s.Stats(sim.Housing)
				return st.Streaming == 0
			})
		})
	}
}

// TestEndlessBodyDeadline: when the deadline comes before the size limit, an
// endless body is a timeout, on time.
func TestEndlessBodyDeadline(t *testing.T) {
	s := startSim(t)
	if err := s.SetFaults(sim.Housing, sim.Faults{EndlessRate: 1}); err != nil {
		t.Fatal(err)
	}
	const timeout = 300 * time.Millisecond
	c, port := newHousing(t, s, func(cfg *partner.Config) {
		cfg.Timeout = timeout
		cfg.MaxResponseBytes = 1 << 30
	})
	start := time.Now()
	_, err := promote(context.Background(), c, port, "m1001", "Lm1001-01", 1, "endless")
	elapsed := time.Since(start)
	wantErr(t, err, partner.ErrTimeout)
	if elapsed < timeout || elapsed > timeout+time.Second {
		t.Errorf("took %v, deadline %v", elapsed, timeout)
	}
	waitFor(t, "the sim to stop streaming", func() bool {
		st, _ := s.Stats(sim.Housing)
		return st.Streaming == 0
	})
}

// TestResponseSizeLimit: an answer over MaxResponseBytes is refused; the
// client still works for small ones.
func TestResponseSizeLimit(t *testing.T) {
	s := startSim(t)
	c, port := newHousing(t, s, func(cfg *partner.Config) { cfg.MaxResponseBytes = 2048 })
	ctx := context.Background()
	_, err := leads(ctx, c, port, "m1001", 100)
	wantErr(t, err, partner.ErrBadResponse)
	if _, err := refresh(ctx, c, port, "m1001", "Lm1001-01"); err != nil {
		t.Fatalf("small answer: %v", err)
	}
}

// TestNotSOAPAnswers: a connection closed before the announced length, a 200
// with nothing in it, a redirect (not followed: it would re-send a paid
// request elsewhere) and a plain-text 404 are each ErrBadResponse.
func TestNotSOAPAnswers(t *testing.T) {
	var redirected atomic.Int64
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { redirected.Add(1) }))
	defer target.Close()
	servers := map[string]http.HandlerFunc{
		"truncated": func(w http.ResponseWriter, r *http.Request) {
			conn, buf, err := http.NewResponseController(w).Hijack()
			if err != nil {
				return
			}
			defer conn.Close()
			_, _ = buf.WriteString("HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 1000\r\n\r\n" +
				`<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>`)
			_ = buf.Flush()
		},
		"empty": func(w http.ResponseWriter, r *http.Request) { w.Header().Set("Content-Type", "text/xml") },
		"redirect": func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, target.URL, http.StatusTemporaryRedirect)
		},
		"not found": func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) },
	}
	for name, h := range servers {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(h)
			defer srv.Close()
			c, port := newHousingAt(t, srv.URL, func(cfg *partner.Config) { cfg.ReadRetries = -1 })
			_, err := leads(context.Background(), c, port, "m1001", 5)
			wantErr(t, err, partner.ErrBadResponse)
		})
	}
	if n := redirected.Load(); n != 0 {
		t.Errorf("the redirect was followed %d times", n)
	}
}

// TestCallWithoutDoContext: a call that drops the context Do gives it is
// still classified, from the generated client's errors: a fault sent with
// HTTP 500 comes from the raw body gowsdl keeps in *soap.HTTPError.
func TestCallWithoutDoContext(t *testing.T) {
	s := startSim(t)
	c, port := newHousing(t, s)
	_, err := partner.Do(context.Background(), c, "RefreshListing", false, func(context.Context) (*genhousing.RefreshListingResponse, error) {
		return port.RefreshListing(&genhousing.RefreshListing{MerchantId: "m1001", ListingId: "Lm1002-01"})
	})
	if f := asFault(t, err); f.Kind != partner.FaultNotOwner || f.ResourceID != "Lm1002-01" || f.Line != "housing" || f.Op != "RefreshListing" {
		t.Errorf("fault %+v", f)
	}
}

// TestConnectionRefused: nobody listening is ErrTransport, fast.
func TestConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c, port := newHousingAt(t, "http://"+addr+"/soap/housing/v1")
	start := time.Now()
	_, err = leads(context.Background(), c, port, "m1001", 5)
	wantErr(t, err, partner.ErrTransport)
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Errorf("took %v", elapsed)
	}
}
