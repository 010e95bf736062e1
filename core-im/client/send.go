package client

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/bangbang-im/bangbang/core-im/protocol"
	"github.com/bangbang-im/bangbang/gen/common"
	"github.com/bangbang-im/bangbang/gen/frame"
)

const instrumentationName = "github.com/bangbang-im/bangbang/core-im/client"

// Send sends a chat message under a new client_msg_id (UUIDv7). See SendWithID.
func (c *Client) Send(ctx context.Context, to, contentType string, body []byte) (SendResult, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return SendResult{}, fmt.Errorf("client: send: new id: %w", err)
	}
	return c.SendWithID(ctx, id.String(), to, contentType, body)
}

// SendWithID sends a chat message and returns once the server has stored it. It retries
// with the same clientMsgID across reconnects until the server acks, ctx ends, or the server
// answers a non-temporary *Error; the server stores one message per clientMsgID, so an app
// that persists the id may also call it again after a restart.
func (c *Client) SendWithID(ctx context.Context, clientMsgID, to, contentType string, body []byte) (SendResult, error) {
	if clientMsgID == "" || len(clientMsgID) > maxClientMsgID || to == "" {
		return SendResult{}, fmt.Errorf("client: send: client_msg_id must be 1..%d bytes and to non-empty: %w", maxClientMsgID, ErrInvalid)
	}
	req := &frame.SendRequest{
		ClientMsgId: clientMsgID,
		ToUser:      to,
		Kind:        int32(common.MessageKind_CHAT),
		ContentType: contentType,
		Body:        body,
	}
	if tp := c.cfg.TracerProvider; tp != nil {
		var span trace.Span
		ctx, span = tp.Tracer(instrumentationName).Start(ctx, "IM SEND", trace.WithSpanKind(trace.SpanKindClient),
			trace.WithAttributes(attribute.String(attrTraffic, trafficChat), attribute.String("bangbang.client_msg_id", clientMsgID)))
		defer span.End()
	}
	var ack frame.SendAck
	if err := c.call(ctx, protocol.OpSend, req, protocol.OpSendAck, &ack); err != nil {
		trace.SpanFromContext(ctx).SetStatus(codes.Error, err.Error())
		return SendResult{}, fmt.Errorf("client: send %s: %w", clientMsgID, err)
	}
	c.ownSent(req, &ack)
	return SendResult{
		MsgID:     ack.MsgId,
		ConvID:    ack.ConvId,
		ConvSeq:   ack.ConvSeq,
		Seq:       ack.Seq,
		SentAt:    time.UnixMilli(ack.SentAtMs),
		Duplicate: ack.Duplicate,
		TraceID:   ack.TraceId,
	}, nil
}

// ownSent gives an acked message to the delivery goroutine. The server pushes a message to
// every device of both users except the sending one, which has the ack instead; without this
// the sending device would see a gap in its inbox at the next push and sync just to fetch
// its own message.
func (c *Client) ownSent(req *frame.SendRequest, ack *frame.SendAck) {
	if ack.Seq <= 0 {
		return
	}
	ct := req.ContentType
	if ct == "" {
		ct = "text/plain" // what the server stores for an empty content type
	}
	m := &common.Message{MsgId: ack.MsgId, ConvId: ack.ConvId, ConvSeq: ack.ConvSeq, Seq: ack.Seq,
		FromUser: c.userID, ToUser: req.ToUser, Kind: req.Kind, ContentType: ct,
		Body: req.Body, ClientMsgId: req.ClientMsgId, SentAtMs: ack.SentAtMs}
	select {
	case c.own <- m:
	default:
	}
}

// MarkRead records that the user has read convID up to convSeq and returns the effective
// (highest) read seq. It retries like Send: a read mark only ever moves forward.
func (c *Client) MarkRead(ctx context.Context, convID string, convSeq int64) (int64, error) {
	if convID == "" || convSeq < 0 {
		return 0, fmt.Errorf("client: mark read: conv id empty or seq negative: %w", ErrInvalid)
	}
	var ack frame.ReadAck
	req := &frame.ReadRequest{ConvId: convID, ConvSeq: convSeq}
	if err := c.call(ctx, protocol.OpRead, req, protocol.OpReadAck, &ack); err != nil {
		return 0, fmt.Errorf("client: mark read %s: %w", convID, err)
	}
	return ack.ConvSeq, nil
}

// Ack tells the server that everything up to seq is stored by the app (AckManual mode; in
// AckAuto mode the client acks by itself). seq must have been handed to the app. The ack is
// sent now if connected, and otherwise on the next connection, so nil means recorded, not
// necessarily received.
func (c *Client) Ack(ctx context.Context, seq int64) error {
	if last := c.LastSeq(); seq <= 0 || seq > last {
		return fmt.Errorf("client: ack %d: beyond the last seq handed over (%d): %w", seq, last, ErrInvalid)
	}
	if err := c.Err(); err != nil {
		return fmt.Errorf("client: ack %d: %w", seq, err)
	}
	raise(&c.ackTarget, seq)
	cn := c.peek()
	if cn == nil {
		return nil
	}
	err := cn.notify(ctx, protocol.OpDeliverAck, &frame.DeliverAck{Seq: seq})
	if err != nil && !errors.Is(err, ErrConnLost) {
		return fmt.Errorf("client: ack %d: %w", seq, err)
	}
	return nil
}

// call sends an idempotent request, retrying on the next connection after ErrConnLost, after
// a temporary *Error (waiting RetryAfter, or a backoff), and after an attempt that timed
// out while ctx still has time.
func (c *Client) call(ctx context.Context, op protocol.Op, req protocol.Body, want protocol.Op, resp protocol.Body) error {
	for attempt := 0; ; attempt++ {
		cn, err := c.current(ctx)
		if err != nil {
			return err
		}
		actx, cancel := context.WithTimeout(ctx, c.cfg.RequestTimeout)
		err = cn.request(actx, op, req, want, resp)
		cancel()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var wait time.Duration
		var se *Error
		switch {
		case errors.Is(err, ErrConnLost), errors.Is(err, context.DeadlineExceeded):
			c.log.Debug("request retried", "op", op, "attempt", attempt, "err", err)
		case errors.As(err, &se) && se.Temporary:
			wait = se.RetryAfter
			if wait <= 0 {
				wait = backoff(c.cfg.ReconnectMin, c.cfg.ReconnectMax, attempt)
			}
		default:
			return err
		}
		if wait > 0 && !sleepCtx(ctx, c.ctx, wait) {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return ErrClosed
		}
	}
}

// sleepCtx waits d unless either context ends first.
func sleepCtx(a, b context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-a.Done():
		return false
	case <-b.Done():
		return false
	}
}
