package gateway

import (
	"time"

	"github.com/bangbang-im/bangbang/core-im/protocol"
	"github.com/bangbang-im/bangbang/gen/common"
	"github.com/bangbang-im/bangbang/gen/frame"
)

// sweep closes connections past their deadline: not authenticated within AuthTimeout, or
// silent for IdleTimeout. One ticker walks the shards one lock at a time, instead of a
// timer per connection, so an idle connection costs no timer.
func (g *Gateway) sweep() { g.every(g.cfg.sweepInterval(), g.sweepOnce) }

// every runs fn at each tick of interval until the gateway stops its background work; the
// caller has added it to g.wg.
func (g *Gateway) every(interval time.Duration, fn func()) {
	defer g.wg.Done()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-g.stopBG:
			return
		case <-t.C:
			fn()
		}
	}
}

func (g *Gateway) sweepOnce() {
	now := g.now()
	authDeadline := now - int64(g.cfg.AuthTimeout)
	idleDeadline := now - int64(g.cfg.IdleTimeout)
	wall := time.Now().UnixMilli()
	var unauth, idle, expired []*session
	g.table.each(func(s *session) {
		id := s.ident.Load()
		switch {
		case id == nil:
			if s.created < authDeadline {
				unauth = append(unauth, s)
			}
		case s.lastSeen.Load() < idleDeadline:
			idle = append(idle, s)
		case id.expiresMs > 0 && id.expiresMs <= wall:
			expired = append(expired, s)
		}
	})
	for _, s := range expired {
		// The login it was opened with has expired: log in again, then reconnect.
		g.stats.tokensExpired.Add(1)
		s.fatal(nil, &frame.Error{Code: int32(common.ErrorCode_TOKEN_EXPIRED), Message: "token expired: log in again"}, "token expired")
	}
	for _, s := range unauth {
		s.fatal(nil, &frame.Error{Code: int32(common.ErrorCode_UNAUTHENTICATED), Message: "no AUTH within the deadline"}, "auth timeout")
	}
	for _, s := range idle {
		s.finish(encode(protocol.OpKick, 0, &frame.Kick{
			Reason: int32(frame.KickReason_IDLE), Message: "no frame within the idle timeout",
		}), "idle")
	}
}
