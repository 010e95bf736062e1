package client

import (
	"context"
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
	var asked time.Duration // the retry-after of the last refused login
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
		if out.planned {
			c.skip() // the gateway asked its clients to go (a deploy): go to another one
		} else {
			delay = max(backoff(c.cfg.ReconnectMin, c.cfg.ReconnectMax, attempt), asked)
			attempt++
		}
		asked = 0
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
			// A gateway that refused the login for a moment said when to come back.
			if se := (*Error)(nil); errors.As(err, &se) && se.Temporary {
				asked = se.RetryAfter
			}
			c.log.Warn("reconnect failed", "attempt", attempt, "err", err)
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
	c.log.Info("connected", "addr", c.addr(), "user", cn.auth.UserId, "session", cn.auth.SessionId)
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
	renew := newRenewal(cn.auth.TokenExpiresAtMs)
	defer renew.stop()
	for !cn.dead() {
		select {
		case <-renew.C():
			renew.reset(c.reauth(cn, renew.expiresMs))
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

// renewal fires a while before the session's token expires, so the client can send AUTH
// again with a fresh token on the live connection (docs/protocol.md, Session lifetime).
type renewal struct {
	t         *time.Timer
	expiresMs int64
}

func newRenewal(expiresMs int64) *renewal {
	r := &renewal{}
	r.reset(expiresMs)
	return r
}

// reset schedules the renewal of a token expiring at expiresMs: a tenth of the time left
// early, at most a minute; none when the server states no expiry, or one already renewed
// (a Token func that returned no fresher token: the session then ends at expiry and the
// client reconnects).
func (r *renewal) reset(expiresMs int64) {
	r.stop()
	if expiresMs <= r.expiresMs {
		r.t = nil
		return
	}
	r.expiresMs = expiresMs
	left := time.Until(time.UnixMilli(expiresMs))
	r.t = time.NewTimer(max(left-min(left/10, time.Minute), 0))
}

func (r *renewal) C() <-chan time.Time {
	if r.t == nil {
		return nil
	}
	return r.t.C
}

func (r *renewal) stop() {
	if r.t != nil {
		r.t.Stop()
	}
}

// reauth asks Config.Token for a token and sends AUTH with it on cn; it returns the new
// expiry, or 0 when the renewal failed (logged: the session ends at its expiry and the
// client reconnects as usual).
func (c *Client) reauth(cn *conn, current int64) int64 {
	ctx, cancel := context.WithTimeout(c.ctx, c.cfg.RequestTimeout)
	defer cancel()
	token, err := c.cfg.Token(ctx)
	if err != nil {
		c.log.Warn("token renewal: no token", "err", err)
		return 0
	}
	var resp frame.AuthResponse
	req := &frame.AuthRequest{Token: token, DeviceId: c.cfg.DeviceID, Platform: c.cfg.Platform, ClientVersion: clientVersion}
	if err := cn.request(ctx, protocol.OpAuth, req, protocol.OpAuthOK, &resp); err != nil {
		c.log.Warn("token renewal refused", "err", err)
		return 0
	}
	if resp.TokenExpiresAtMs <= current {
		c.log.Warn("token renewal: the token from Config.Token is no fresher; the session ends at its expiry")
	} else {
		c.log.Info("session renewed", "expires", time.UnixMilli(resp.TokenExpiresAtMs))
	}
	return resp.TokenExpiresAtMs
}
