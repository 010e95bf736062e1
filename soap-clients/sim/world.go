package sim

import (
	"fmt"
	"strconv"
	"sync"
	"time"
)

// world is the mutable state the three lines share: one credit ledger, the
// refresh and purchase counters, running promotions and the results of paid
// requests by requestId. One mutex guards it all: every change is a few map
// operations, and holding it across a whole charge is what makes concurrent
// promotes of one merchant unable to overdraw.
type world struct {
	now func() time.Time

	mu        sync.Mutex
	credits   map[string]int64     // merchant → spendable credits
	refreshes map[string]dayCount  // resource → refreshes today
	purchases map[string]dayCount  // merchant → purchases today
	promoted  map[string]time.Time // resource → end of its promotion
	paid      map[paidKey]paidResult
}

type dayCount struct {
	day time.Time
	n   int
}

// paidKey scopes requestIds per merchant, as a partner's ledger would.
type paidKey struct{ merchant, requestID string }

type paidResult struct {
	// fingerprint describes the request, so that a requestId reused for a
	// different request is refused instead of answered with an unrelated result.
	fingerprint string
	promotion   promotion
	order       order
}

func newWorld(now func() time.Time) *world {
	w := &world{
		now:       now,
		credits:   make(map[string]int64),
		refreshes: make(map[string]dayCount),
		purchases: make(map[string]dayCount),
		promoted:  make(map[string]time.Time),
		paid:      make(map[paidKey]paidResult),
	}
	for _, m := range merchantIDs() {
		w.credits[m] = seedCredits
	}
	return w
}

func (w *world) balance(merchant string) (int64, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	c, ok := w.credits[merchant]
	return c, ok
}

type refreshResult struct {
	at, next  time.Time
	remaining int
}

// refresh spends one of the resource's daily refreshes.
func (w *world) refresh(f faults, resource, quota string) (refreshResult, error) {
	now := w.now().UTC()
	day := startOfDay(now)
	w.mu.Lock()
	defer w.mu.Unlock()
	c := w.refreshes[resource]
	if !c.day.Equal(day) {
		c = dayCount{day: day}
	}
	if c.n >= refreshQuota {
		return refreshResult{}, f.quotaExceeded(quota, refreshQuota, secondsUntil(now, day.AddDate(0, 0, 1)))
	}
	c.n++
	w.refreshes[resource] = c
	res := refreshResult{at: now, next: now, remaining: refreshQuota - c.n}
	if res.remaining == 0 {
		res.next = day.AddDate(0, 0, 1)
	}
	return res, nil
}

type promotion struct {
	id              string
	resource        string
	days            int
	charged, remain int64
	until           time.Time
}

// promote charges days*10 credits and extends the resource's promotion, once
// per (merchant, requestID).
func (w *world) promote(f faults, merchant, resource string, days int, requestID string) (promotion, error) {
	fp := "promote " + resource + " " + strconv.Itoa(days)
	now := w.now().UTC()
	w.mu.Lock()
	defer w.mu.Unlock()
	key := paidKey{merchant, requestID}
	if prev, ok := w.paid[key]; ok {
		if prev.fingerprint != fp {
			return promotion{}, f.invalid("requestId", "already used for a different request")
		}
		return prev.promotion, nil
	}
	cost := int64(days) * creditsPerPromoDay
	balance := w.credits[merchant]
	if balance < cost {
		return promotion{}, f.insufficientCredits(cost, balance)
	}
	w.credits[merchant] = balance - cost
	start := now
	if until := w.promoted[resource]; until.After(now) {
		start = until
	}
	p := promotion{
		id:       fmt.Sprintf("PRM-%012X", hashOf(merchant, requestID)&0xFFFFFFFFFFFF),
		resource: resource,
		days:     days,
		charged:  cost,
		remain:   balance - cost,
		until:    start.Add(time.Duration(days) * 24 * time.Hour),
	}
	w.promoted[resource] = p.until
	w.paid[key] = paidResult{fingerprint: fp, promotion: p}
	return p, nil
}

type order struct {
	id      string
	pkg     creditPackage
	balance int64
	at      time.Time
}

// buy adds a package's credits, once per (merchant, requestID), at most
// purchaseQuota purchases a day.
func (w *world) buy(f faults, merchant string, pkg creditPackage, requestID string) (order, error) {
	fp := "buy " + pkg.code
	now := w.now().UTC()
	day := startOfDay(now)
	w.mu.Lock()
	defer w.mu.Unlock()
	key := paidKey{merchant, requestID}
	if prev, ok := w.paid[key]; ok {
		if prev.fingerprint != fp {
			return order{}, f.invalid("requestId", "already used for a different request")
		}
		return prev.order, nil
	}
	c := w.purchases[merchant]
	if !c.day.Equal(day) {
		c = dayCount{day: day}
	}
	if c.n >= purchaseQuota {
		return order{}, f.quotaExceeded("credits.purchase.daily", purchaseQuota, secondsUntil(now, day.AddDate(0, 0, 1)))
	}
	c.n++
	w.purchases[merchant] = c
	w.credits[merchant] += pkg.credits
	o := order{
		id:      fmt.Sprintf("ORD-%012X", hashOf(merchant, requestID)&0xFFFFFFFFFFFF),
		pkg:     pkg,
		balance: w.credits[merchant],
		at:      now,
	}
	w.paid[key] = paidResult{fingerprint: fp, order: o}
	return o, nil
}

// secondsUntil rounds up, so that a caller retrying after that many seconds
// is never early.
func secondsUntil(now, t time.Time) int64 {
	d := t.Sub(now)
	s := int64(d / time.Second)
	if d%time.Second != 0 {
		s++
	}
	return s
}
