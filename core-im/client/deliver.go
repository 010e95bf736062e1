package client

import (
	"context"
	"errors"
	"time"

	"github.com/bangbang-im/bangbang/core-im/protocol"
	"github.com/bangbang-im/bangbang/gen/common"
	"github.com/bangbang-im/bangbang/gen/frame"
)

// syncLimit is the page size of SYNC requests (the protocol allows 1..500).
const syncLimit = 100

// deliverer is the state of the delivery goroutine: the only sender on Messages.
type deliverer struct {
	c     *Client
	inbox *inbox
	acks  acker
}

// deliverLoop syncs and streams on each connection in turn until the client stops.
func (c *Client) deliverLoop() {
	defer c.wg.Done()
	d := &deliverer{c: c, inbox: newInbox(c.lastSeq.Load()), acks: newAcker(c.cfg.AckMode)}
	defer d.acks.stop()
	var prev *conn
	for {
		cn, err := c.next(c.ctx, prev)
		if err != nil {
			return
		}
		prev = cn
		d.stream(cn)
	}
}

// stream first syncs from the last delivered seq, then delivers pushes that continue the
// sequence, syncing again after a gap, a dropped push, or ResyncInterval without a push.
// It returns when cn ends.
func (d *deliverer) stream(cn *conn) {
	ctx := d.c.ctx
	if t := d.c.ackTarget.Load(); t > cn.auth.AckedSeq {
		// The previous connection ended before the server recorded this ack.
		d.sendAck(cn, t)
	}
	quiet := newQuietTimer(d.c.cfg.ResyncInterval)
	defer quiet.stop()
	needSync := true
	for {
		if needSync {
			if !d.sync(cn) {
				return
			}
			needSync = false
			quiet.reset()
		}
		select {
		case batch := <-cn.pushes:
			ok, gap := d.push(batch)
			if !ok {
				return
			}
			needSync = gap
			quiet.reset()
		case <-quiet.C():
			d.c.log.Debug("no push for a while: syncing", "after_seq", d.inbox.last)
			needSync = true
		case m := <-d.c.own:
			ok, gap := d.push([]*common.Message{m})
			if !ok {
				return
			}
			needSync = gap
		case <-cn.wake:
			needSync = cn.lost.Swap(false)
		case <-d.acks.C():
			d.flushAck()
		case <-cn.done:
			return
		case <-ctx.Done():
			return
		}
	}
}

// quietTimer fires after an interval without pushes; a nil channel (never fires) when off.
type quietTimer struct {
	d time.Duration
	t *time.Timer
}

func newQuietTimer(d time.Duration) *quietTimer {
	q := &quietTimer{d: d}
	if d > 0 {
		q.t = time.NewTimer(d)
	}
	return q
}

func (q *quietTimer) C() <-chan time.Time {
	if q.t == nil {
		return nil
	}
	return q.t.C
}

// reset starts the interval again (Go 1.23 timers: Reset needs no drain).
func (q *quietTimer) reset() {
	if q.t != nil {
		q.t.Reset(q.d)
	}
}

func (q *quietTimer) stop() {
	if q.t != nil {
		q.t.Stop()
	}
}

// push delivers the messages of one PUSH; gap reports that some are missing before them.
func (d *deliverer) push(batch []*common.Message) (ok, gap bool) {
	for _, m := range batch {
		switch d.inbox.classify(m.Seq) {
		case verdictDuplicate:
			continue
		case verdictGap:
			// The rest of the batch comes back with the sync.
			return true, true
		}
		if !d.hand(m) {
			return false, false
		}
	}
	return true, false
}

// sync pages SYNC until has_more is false. It returns false when the connection or the
// client ended, or when the server refused in a way a retry on this connection cannot fix
// (then it closes cn, and the supervisor reconnects with backoff).
func (d *deliverer) sync(cn *conn) bool {
	c := d.c
	for attempt := 0; ; {
		var resp frame.SyncResponse
		req := &frame.SyncRequest{AfterSeq: d.inbox.last, Limit: syncLimit}
		rctx, cancel := context.WithTimeout(c.ctx, c.cfg.RequestTimeout)
		err := cn.request(rctx, protocol.OpSync, req, protocol.OpSyncResp, &resp)
		cancel()
		if err != nil {
			if c.ctx.Err() != nil || errors.Is(err, ErrConnLost) {
				return false
			}
			var se *Error
			if errors.As(err, &se) && se.Temporary {
				wait := se.RetryAfter
				if wait <= 0 {
					wait = backoff(c.cfg.ReconnectMin, c.cfg.ReconnectMax, attempt)
				}
				attempt++
				if !d.wait(cn, wait) {
					return false
				}
				continue
			}
			c.log.Warn("sync failed: reconnecting", "after_seq", req.AfterSeq, "err", err)
			cn.close(err)
			return false
		}
		attempt = 0
		for _, m := range resp.Messages {
			if m.Seq <= d.inbox.last {
				continue
			}
			if !d.hand(m) {
				return false
			}
		}
		if !resp.HasMore {
			return true
		}
		if len(resp.Messages) == 0 {
			c.log.Warn("sync page empty but has_more set", "after_seq", req.AfterSeq)
			return true
		}
	}
}

// wait sleeps d while flushing acks, unless cn or the client ends first.
func (d *deliverer) wait(cn *conn, dur time.Duration) bool {
	t := time.NewTimer(dur)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			return true
		case <-d.acks.C():
			d.flushAck()
		case <-cn.done:
			return false
		case <-d.c.ctx.Done():
			return false
		}
	}
}

// hand gives m to the app, waiting as long as the app needs. A message already seen under
// another seq is skipped, but its seq still counts as delivered.
func (d *deliverer) hand(m *common.Message) bool {
	c := d.c
	if d.inbox.seen(m.MsgId) {
		d.inbox.advance(m.Seq, m.MsgId)
		c.lastSeq.Store(d.inbox.last)
		return true
	}
	msg := messageFrom(m)
	for {
		select {
		case c.msgs <- msg:
			d.inbox.advance(m.Seq, m.MsgId)
			c.lastSeq.Store(d.inbox.last)
			if d.acks.handed() {
				d.flushAck()
			}
			return true
		case <-d.acks.C():
			d.flushAck()
		case <-c.ctx.Done():
			return false
		}
	}
}

// flushAck sends one cumulative DELIVER_ACK for everything handed so far. With no live
// connection it waits for the next one, which stream acks on start.
func (d *deliverer) flushAck() {
	d.acks.reset()
	seq := d.c.lastSeq.Load()
	raise(&d.c.ackTarget, seq)
	if cn := d.c.peek(); cn != nil {
		d.sendAck(cn, seq)
	}
}

func (d *deliverer) sendAck(cn *conn, seq int64) {
	if err := cn.notify(d.c.ctx, protocol.OpDeliverAck, &frame.DeliverAck{Seq: seq}); err != nil {
		d.c.log.Debug("delivery ack not sent", "seq", seq, "err", err)
	}
}
