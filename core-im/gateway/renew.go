package gateway

import (
	"context"
	"time"

	"github.com/bangbang-im/bangbang/core-im/protocol"
	"github.com/bangbang-im/bangbang/gen/frame"
	logicgen "github.com/bangbang-im/bangbang/gen/logic"
)

// renewBatch is the most routes one Renew call carries.
const renewBatch = 1000

// renewTimeout bounds one Renew call.
const renewTimeout = 10 * time.Second

// renew keeps the routes of live connections from expiring, in batches, and closes the
// connections logic no longer knows (their route expired or was taken over).
func (g *Gateway) renew() { g.every(g.cfg.RenewInterval, g.renewOnce) }

func (g *Gateway) renewOnce() {
	var routes []*logicgen.RouteRef
	g.table.each(func(s *session) {
		if id := s.ident.Load(); id != nil {
			routes = append(routes, id.route(s.id))
		}
	})
	for len(routes) > 0 {
		n := min(len(routes), renewBatch)
		g.renewBatch(routes[:n])
		routes = routes[n:]
	}
}

func (g *Gateway) renewBatch(routes []*logicgen.RouteRef) {
	ctx, cancel := context.WithTimeout(g.ctx, renewTimeout)
	resp, err := g.logic.Renew(ctx, &logicgen.RenewRequest{Node: g.cfg.Node, Routes: routes})
	cancel()
	if err != nil {
		g.log.Warn("renew failed", "routes", len(routes), "err", err)
		return
	}
	for _, r := range resp.GetLost() {
		s := g.table.get(r.GetConnId())
		if s == nil {
			continue
		}
		g.log.Info("route lost: closing connection", s.attrs()...)
		// Not REPLACED: the route may simply have expired during a logic outage, and the
		// client should come back (and register again) at once.
		s.finish(encode(protocol.OpReconnect, 0, &frame.Reconnect{AfterMs: 0, Reason: "route lost"}), "route lost")
	}
}
