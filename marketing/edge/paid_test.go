package edge

import (
	"bytes"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/bangbang-im/bangbang/marketing/idempotency"
	"github.com/bangbang-im/bangbang/soap-clients/sim"
)

// TestIdempotentPaidActions: a paid action repeated with its key is answered
// from the first result and never reaches the third party again.
func TestIdempotentPaidActions(t *testing.T) {
	h := newHarness(t, options{})
	tok := h.token("m1001", "merchant")

	t.Run("replay", func(t *testing.T) {
		r := req{method: "POST", path: "/v1/listings/Lm1001-01/promotions", token: tok, key: "replay-1", body: `{"days":5}`}
		first := h.do(t, r)
		first.ok(t, &promotionView{})
		credits := h.credits(t, "m1001")
		for i := 0; i < 3; i++ {
			again := h.do(t, r)
			if again.status != 200 || !bytes.Equal(again.body, first.body) || again.header.Get("Idempotent-Replayed") != "true" {
				t.Fatalf("replay %d: %d %s %v, first %s", i, again.status, again.body, again.header, first.body)
			}
		}
		if first.header.Get("Idempotent-Replayed") != "" {
			t.Fatal("the first answer says it is replayed")
		}
		if n := h.calls(sim.Housing, "PromoteListing"); n != 1 || h.credits(t, "m1001") != credits {
			t.Fatalf("%d SOAP calls, credits %d -> %d", n, credits, h.credits(t, "m1001"))
		}
	})

	t.Run("purchase replay", func(t *testing.T) {
		r := req{method: "POST", path: "/v1/credits/purchases", token: tok, key: "buy-replay", body: `{"package_code":"CP500"}`}
		first := h.do(t, r)
		first.ok(t, &purchaseView{})
		again := h.do(t, r)
		if !bytes.Equal(again.body, first.body) || h.calls(sim.Account, "BuyCreditPackage") != 1 {
			t.Fatalf("replay %s, first %s, calls %d", again.body, first.body, h.calls(sim.Account, "BuyCreditPackage"))
		}
	})

	t.Run("key reused for another request", func(t *testing.T) {
		calls := h.calls(sim.Housing, "PromoteListing")
		h.do(t, req{method: "POST", path: "/v1/listings/Lm1001-01/promotions", token: tok, key: "replay-1", body: `{"days":6}`}).
			fails(t, 422, CodeIdempotencyKeyReused)
		h.do(t, req{method: "POST", path: "/v1/listings/Lm1001-02/promotions", token: tok, key: "replay-1", body: `{"days":5}`}).
			fails(t, 422, CodeIdempotencyKeyReused)
		if n := h.calls(sim.Housing, "PromoteListing"); n != calls {
			t.Fatalf("SOAP calls %d -> %d", calls, n)
		}
	})

	t.Run("keys are per merchant", func(t *testing.T) {
		before := h.credits(t, "m1006")
		var v promotionView
		h.do(t, req{method: "POST", path: "/v1/listings/Lm1006-01/promotions", token: h.token("m1006", "merchant"), key: "replay-1", body: `{"days":5}`}).ok(t, &v)
		if v.ListingID != "Lm1006-01" || h.credits(t, "m1006") != before-50 {
			t.Fatalf("promotion %+v, credits %d -> %d", v, before, h.credits(t, "m1006"))
		}
	})

	t.Run("a business fault is replayed too", func(t *testing.T) {
		m := h.token("m1007", "merchant")
		r := req{method: "POST", path: "/v1/jobs/Jm1007-01/promotions", token: m, key: "poor-1", body: `{"days":30}`}
		h.do(t, req{method: "POST", path: "/v1/jobs/Jm1007-02/promotions", token: m, key: "rich-1", body: `{"days":30}`}).ok(t, &promotionView{})
		first := h.do(t, r)
		first.fails(t, 402, CodeInsufficientCredits)
		calls := h.calls(sim.Recruitment, "PromoteJobPost")
		again := h.do(t, r)
		if again.status != 402 || !bytes.Equal(again.body, first.body) || again.header.Get("Idempotent-Replayed") != "true" ||
			h.calls(sim.Recruitment, "PromoteJobPost") != calls {
			t.Fatalf("replay %d %s %v", again.status, again.body, again.header)
		}
	})

	t.Run("a key longer than the WSDL's requestId", func(t *testing.T) {
		key := "app-" + strings.Repeat("k", 100)
		r := req{method: "POST", path: "/v1/listings/Lm1001-03/promotions", token: tok, key: key, body: `{"days":1}`}
		first := h.do(t, r)
		first.ok(t, &promotionView{})
		if again := h.do(t, r); !bytes.Equal(again.body, first.body) {
			t.Fatalf("replay %s, first %s", again.body, first.body)
		}
	})
}

// TestConcurrentSameKey: many requests with one key at once make one SOAP
// call and one charge; the others wait (409) or get the first answer.
func TestConcurrentSameKey(t *testing.T) {
	h := newHarness(t, options{})
	// Slow enough that every request arrives while the first one runs.
	if err := h.sim.SetFaults(sim.Housing, sim.Faults{Latency: 300 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	tok := h.token("m1008", "merchant")
	before := h.credits(t, "m1008")
	const n = 8
	results := make([]resp, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = h.try(req{method: "POST", path: "/v1/listings/Lm1008-01/promotions", token: tok, key: "race-1", body: `{"days":2}`})
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	var fresh, replayed, inFlight int
	var body []byte
	for _, r := range results {
		switch {
		case r.status == 200 && r.header.Get("Idempotent-Replayed") == "":
			fresh++
			body = r.body
		case r.status == 200:
			replayed++
		case r.status == 409:
			r.fails(t, 409, CodeIdempotencyInFlight)
			if r.header.Get("Retry-After") != "1" {
				t.Fatalf("409 without Retry-After: %v", r.header)
			}
			inFlight++
		default:
			t.Fatalf("status %d: %s", r.status, r.body)
		}
	}
	if fresh != 1 || inFlight == 0 {
		t.Fatalf("%d fresh, %d replayed, %d in flight", fresh, replayed, inFlight)
	}
	for _, r := range results {
		if r.status == 200 && !bytes.Equal(r.body, body) {
			t.Fatalf("answers differ: %s vs %s", r.body, body)
		}
	}
	if calls := h.calls(sim.Housing, "PromoteListing"); calls != 1 || h.credits(t, "m1008") != before-20 {
		t.Fatalf("%d SOAP calls, credits %d -> %d", calls, before, h.credits(t, "m1008"))
	}
}

// TestIdempotencyStoreDown: without the store a paid action is refused, never
// sent unprotected; reads are unaffected.
func TestIdempotencyStoreDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close()
	rc := redis.NewClient(&redis.Options{Addr: dead, ContextTimeoutEnabled: true, MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	t.Cleanup(func() { _ = rc.Close() })
	h := newHarness(t, options{idem: idempotency.NewRedis(rc, idempotency.Options{})})
	tok := h.token("m1001", "merchant")
	h.do(t, req{method: "POST", path: "/v1/listings/Lm1001-01/promotions", token: tok, key: "k-1", body: `{"days":1}`}).fails(t, 503, CodeUnavailable)
	h.do(t, req{method: "POST", path: "/v1/credits/purchases", token: tok, key: "k-2", body: `{"package_code":"CP100"}`}).fails(t, 503, CodeUnavailable)
	if n := h.calls(sim.Housing, "PromoteListing") + h.calls(sim.Account, "BuyCreditPackage"); n != 0 {
		t.Fatalf("%d paid SOAP calls without a claim", n)
	}
	h.do(t, req{method: "GET", path: "/v1/credits", token: tok}).ok(t, &creditsView{})
}
