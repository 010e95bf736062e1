package gateway

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/bangbang-im/bangbang/core-im/protocol"
	"github.com/bangbang-im/bangbang/gen/frame"
	logicgen "github.com/bangbang-im/bangbang/gen/logic"
)

// renewBatch is the most routes one Renew call carries.
const renewBatch = 1000

// renewTimeout bounds one Renew call.
const renewTimeout = 10 * time.Second

// lostSpreadPerConn spreads the reconnects of many lost routes (one per millisecond, at
// most maxLostSpread), so a route table that lost every route does not bring every
// client back in the same instant.
const (
	lostSpreadPerConn = time.Millisecond
	maxLostSpread     = 5 * time.Second
)

// maxRenewRetry caps the backoff of failed renewals, so a table back from a long outage
// is seen within it.
const maxRenewRetry = 5 * time.Second

// renew keeps the routes of live connections from expiring, in batches, and closes the
// connections logic no longer knows (their route expired or was taken over). After a
// failed renewal it tries again after RenewRetry, doubling up to 5s (or RenewInterval): a route
// table back from an outage (perhaps empty: Redis restarted without its data) is so seen
// within seconds, not at the next interval, and the connections it lost come back and
// sync what was pushed to nobody meanwhile.
func (g *Gateway) renew() {
	defer g.wg.Done()
	t := time.NewTimer(g.cfg.RenewInterval)
	defer t.Stop()
	failures := 0
	for {
		select {
		case <-g.stopBG:
			return
		case <-t.C:
		}
		wait := g.cfg.RenewInterval
		if g.renewOnce() {
			failures = 0
		} else {
			failures++
			wait = min(g.cfg.RenewRetry<<min(failures-1, 10), maxRenewRetry, g.cfg.RenewInterval)
		}
		t.Reset(wait)
	}
}

// renewOnce renews every route; it reports whether every batch went through.
func (g *Gateway) renewOnce() bool {
	var routes []*logicgen.RouteRef
	g.table.each(func(s *session) {
		if id := s.ident.Load(); id != nil {
			routes = append(routes, id.route(s.id))
		}
	})
	ok := true
	for len(routes) > 0 {
		n := min(len(routes), renewBatch)
		ok = g.renewBatch(routes[:n]) && ok
		routes = routes[n:]
	}
	return ok
}

func (g *Gateway) renewBatch(routes []*logicgen.RouteRef) bool {
	ctx, cancel := context.WithTimeout(g.ctx, renewTimeout)
	resp, err := g.logic.Renew(ctx, &logicgen.RenewRequest{Node: g.cfg.Node, Routes: routes})
	cancel()
	if err != nil {
		g.log.Warn("renew failed; retrying soon", "routes", len(routes), "err", err)
		return false
	}
	lost := resp.GetLost()
	spread := min(time.Duration(len(lost))*lostSpreadPerConn, maxLostSpread)
	for _, r := range lost {
		s := g.table.get(r.GetConnId())
		if s == nil {
			continue
		}
		g.log.Info("route lost: closing connection", s.attrs()...)
		// Not REPLACED: the route may simply have expired during a logic outage, and the
		// client should come back (and register again) at once.
		after := int32(0)
		if spread > 0 {
			after = int32(rand.Int64N(int64(spread / time.Millisecond)))
		}
		s.finish(encode(protocol.OpReconnect, 0, &frame.Reconnect{AfterMs: after, Reason: "route lost"}), "route lost")
	}
	return true
}
