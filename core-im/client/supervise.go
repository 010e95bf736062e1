package client

import (
	"errors"
	"fmt"
	"time"

	"github.com/bangbang-im/bangbang/core-im/protocol"
	"github.com/bangbang-im/bangbang/gen/frame"
)

// silentIntervals heartbeat intervals without a single frame from the server mean the
// connection is dead even if TCP has not noticed.
const silentIntervals = 3

// outcome is how a connection ended and what the supervisor does next.
type outcome struct {
	stop    error         // stop for good with this error
	planned bool          // the server asked to reconnect: wait delay, not a backoff
	delay   time.Duration // with planned
}

// run is the supervisor goroutine: it serves one connection at a time and reconnects with
// backoff until the client is closed or kicked off for good.
func (c *Client) run(cn *conn) {
	var stop error
	defer func() { c.finish(stop) }()
	attempt := 0
	for {
		var out outcome
		if cn != nil {
			attempt = 0
			out = c.serve(cn)
			if out.stop != nil {
				stop = out.stop
				return
			}
		}
		delay := out.delay
		if !out.planned {
			delay = backoff(c.cfg.ReconnectMin, c.cfg.ReconnectMax, attempt)
			attempt++
		}
		c.emit(Event{Kind: EventReconnecting, Delay: delay})
		if !c.pause(delay) {
			stop = ErrClosed
			return
		}
		var err error
		if cn, err = c.reconnect(); err != nil {
			if c.ctx.Err() != nil {
				stop = ErrClosed
				return
			}
			c.log.Warn("reconnect failed", "addr", c.cfg.Addr, "attempt", attempt, "err", err)
			c.emit(Event{Kind: EventDisconnected, Err: err})
		}
	}
}

// pause waits d unless the client is closed first.
func (c *Client) pause(d time.Duration) bool {
	if d <= 0 {
		return c.ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-c.ctx.Done():
		return false
	}
}

func (c *Client) reconnect() (*conn, error) {
	cn, err := c.connect(c.ctx)
	if err != nil {
		return nil, err
	}
	if cn.auth.UserId != c.userID {
		// Another user's inbox sequence would corrupt this one's resume point.
		err := fmt.Errorf("token is for user %q, not %q: %w", cn.auth.UserId, c.userID, ErrInvalid)
		cn.close(err)
		cn.wait()
		return nil, err
	}
	return cn, nil
}

// serve publishes cn, keeps it alive with heartbeats, and returns once it has ended and its
// goroutines have stopped.
func (c *Client) serve(cn *conn) outcome {
	c.setState(cn, nil)
	c.log.Info("connected", "addr", c.cfg.Addr, "user", cn.auth.UserId, "session", cn.auth.SessionId)
	c.emit(Event{Kind: EventConnected, UserID: cn.auth.UserId, SessionID: cn.auth.SessionId})

	interval := c.cfg.HeartbeatInterval
	if interval <= 0 {
		interval = time.Duration(cn.auth.HeartbeatIntervalMs) * time.Millisecond
	}
	if interval <= 0 {
		interval = defaultHeartbeat
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()

	var reconnectAt time.Time
	var drain <-chan time.Time
	for !cn.dead() {
		select {
		case <-c.ctx.Done():
			cn.close(ErrClosed)
		case <-cn.done:
		case now := <-tick.C:
			if now.Sub(time.Unix(0, cn.lastRead.Load())) > silentIntervals*interval {
				cn.close(errSilent)
				break
			}
			cn.tryNotify(c.ctx, protocol.OpHeartbeat, &frame.Heartbeat{ClientTimeMs: now.UnixMilli()})
		case r := <-cn.reconnect:
			if drain == nil {
				// Requests in flight may still finish on this connection meanwhile.
				d := time.Duration(max(r.AfterMs, 0)) * time.Millisecond
				reconnectAt = time.Now().Add(d)
				t := time.NewTimer(d)
				defer t.Stop()
				drain = t.C
				c.log.Info("server asked to reconnect", "after", d, "reason", r.Reason)
			}
		case <-drain:
			cn.close(errDraining)
		}
	}
	c.setState(nil, nil)
	cn.wait()

	cause := cn.cause()
	if c.ctx.Err() != nil {
		return outcome{stop: ErrClosed}
	}
	c.log.Info("disconnected", "session", cn.auth.SessionId, "err", cause)
	c.emit(Event{Kind: EventDisconnected, Err: cause})
	if k := cn.kicked(); k != nil {
		reason := frame.KickReason(k.Reason)
		c.emit(Event{Kind: EventKicked, Reason: reason, Message: k.Message})
		if reason == frame.KickReason_REPLACED || reason == frame.KickReason_AUTH_REVOKED {
			return outcome{stop: kickError(k)}
		}
	}
	if !reconnectAt.IsZero() || errors.Is(cause, errDraining) {
		return outcome{planned: true, delay: max(time.Until(reconnectAt), 0)}
	}
	return outcome{}
}
