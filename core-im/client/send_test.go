package client

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/bangbang-im/bangbang/core-im/protocol"
	"github.com/bangbang-im/bangbang/gen/common"
	"github.com/bangbang-im/bangbang/gen/frame"
)

type sendOutcome struct {
	res SendResult
	err error
}

func sendAsync(ctx context.Context, c *Client, body string) <-chan sendOutcome {
	out := make(chan sendOutcome, 1)
	go func() {
		res, err := c.Send(ctx, "u2", "text/plain", []byte(body))
		out <- sendOutcome{res, err}
	}()
	return out
}

func await(t *testing.T, ch <-chan sendOutcome) sendOutcome {
	t.Helper()
	select {
	case o := <-ch:
		return o
	case <-time.After(waitTimeout):
		t.Fatal("timed out waiting for Send")
		return sendOutcome{}
	}
}

func ackFor(req *frame.SendRequest, dup bool) *frame.SendAck {
	return &frame.SendAck{
		ClientMsgId: req.ClientMsgId, MsgId: "srv-1", ConvId: "p:u1|u2", ConvSeq: 7, Seq: 9,
		SentAtMs: 1_700_000_000_123, Duplicate: dup, TraceId: "t1",
	}
}

func TestSendRoundTrip(t *testing.T) {
	s := newTestServer(t)
	cfg := testConfig(t, s)
	tc := protocol.TraceContext{TraceID: [16]byte{1, 2, 3}, SpanID: [8]byte{4, 5}, Flags: 1}
	cfg.Trace = func(context.Context) *protocol.TraceContext { return &tc }
	c := dial(t, cfg)
	sc := s.accept()

	out := sendAsync(t.Context(), c, "hi")
	var req frame.SendRequest
	f := sc.expect(protocol.OpSend, &req)
	if !f.HasTrace() || f.Trace != tc {
		t.Errorf("SEND trace context = %+v (flag %v), want %+v", f.Trace, f.HasTrace(), tc)
	}
	if req.ToUser != "u2" || req.ContentType != "text/plain" || string(req.Body) != "hi" ||
		req.Kind != int32(common.MessageKind_CHAT) {
		t.Errorf("SEND = %+v", &req)
	}
	if id, err := uuid.Parse(req.ClientMsgId); err != nil || id.Version() != 7 {
		t.Errorf("client_msg_id %q is not a UUIDv7 (%v)", req.ClientMsgId, err)
	}
	if err := sc.write(protocol.OpSendAck, f.Seq, ackFor(&req, false)); err != nil {
		t.Fatal(err)
	}
	o := await(t, out)
	if o.err != nil {
		t.Fatalf("Send: %v", o.err)
	}
	want := SendResult{MsgID: "srv-1", ConvID: "p:u1|u2", ConvSeq: 7, Seq: 9,
		SentAt: time.UnixMilli(1_700_000_000_123), TraceID: "t1"}
	if o.res != want {
		t.Errorf("result = %+v, want %+v", o.res, want)
	}
}

func TestSendErrors(t *testing.T) {
	s := newTestServer(t)
	c := dial(t, testConfig(t, s))
	sc := s.accept()

	t.Run("permanent error is returned, not retried", func(t *testing.T) {
		out := sendAsync(t.Context(), c, "x")
		var req frame.SendRequest
		f := sc.expect(protocol.OpSend, &req)
		_ = sc.write(protocol.OpError, f.Seq, &frame.Error{Code: int32(common.ErrorCode_NOT_FOUND), Message: "no such user"})
		o := await(t, out)
		var se *Error
		if !errors.As(o.err, &se) || se.Code != common.ErrorCode_NOT_FOUND {
			t.Fatalf("Send error = %v, want NOT_FOUND", o.err)
		}
		// Had Send retried, its SEND would come before this READ.
		roundTrip(t, c, sc)
	})
	t.Run("temporary error is retried with the same id", func(t *testing.T) {
		out := sendAsync(t.Context(), c, "y")
		var first, second frame.SendRequest
		f := sc.expect(protocol.OpSend, &first)
		_ = sc.write(protocol.OpError, f.Seq, &frame.Error{
			Code: int32(common.ErrorCode_UNAVAILABLE), Temporary: true, RetryAfterMs: 1})
		f = sc.expect(protocol.OpSend, &second)
		if second.ClientMsgId != first.ClientMsgId {
			t.Errorf("retry used id %s, first %s", second.ClientMsgId, first.ClientMsgId)
		}
		_ = sc.write(protocol.OpSendAck, f.Seq, ackFor(&second, false))
		if o := await(t, out); o.err != nil {
			t.Fatalf("Send: %v", o.err)
		}
	})
	t.Run("invalid arguments", func(t *testing.T) {
		if _, err := c.SendWithID(t.Context(), "", "u2", "text/plain", nil); !errors.Is(err, ErrInvalid) {
			t.Errorf("empty id: %v", err)
		}
		if _, err := c.Send(t.Context(), "", "text/plain", nil); !errors.Is(err, ErrInvalid) {
			t.Errorf("empty recipient: %v", err)
		}
	})
	t.Run("context ends the wait", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		out := sendAsync(ctx, c, "z")
		var req frame.SendRequest
		sc.expect(protocol.OpSend, &req)
		cancel()
		if o := await(t, out); !errors.Is(o.err, context.Canceled) {
			t.Errorf("Send error = %v, want context.Canceled", o.err)
		}
	})
}

// A SEND whose connection drops before the ack is resent on the next connection under the
// same client_msg_id; the app gets one result.
func TestSendResendsAfterDrop(t *testing.T) {
	s := newTestServer(t)
	c := dial(t, testConfig(t, s))
	first := s.accept()

	out := sendAsync(t.Context(), c, "once")
	var req1, req2 frame.SendRequest
	first.expect(protocol.OpSend, &req1)
	first.drop()

	second := s.accept()
	f := second.expect(protocol.OpSend, &req2)
	if req2.ClientMsgId != req1.ClientMsgId || string(req2.Body) != "once" {
		t.Fatalf("resent SEND %+v, first %+v", &req2, &req1)
	}
	_ = second.write(protocol.OpSendAck, f.Seq, ackFor(&req2, true))
	o := await(t, out)
	if o.err != nil {
		t.Fatalf("Send: %v", o.err)
	}
	if o.res.MsgID != "srv-1" || !o.res.Duplicate {
		t.Errorf("result = %+v", o.res)
	}
	select {
	case extra := <-out:
		t.Errorf("a second result: %+v", extra)
	default:
	}
}

func TestMarkReadAndReceipts(t *testing.T) {
	s := newTestServer(t)
	c := dial(t, testConfig(t, s))
	sc := s.accept()

	got := make(chan int64, 1)
	go func() {
		seq, err := c.MarkRead(t.Context(), "p:u1|u2", 5)
		if err != nil {
			t.Errorf("MarkRead: %v", err)
		}
		got <- seq
	}()
	var req frame.ReadRequest
	f := sc.expect(protocol.OpRead, &req)
	if req.ConvId != "p:u1|u2" || req.ConvSeq != 5 {
		t.Errorf("READ = %+v", &req)
	}
	// The server answers with the effective mark, which may be higher.
	_ = sc.write(protocol.OpReadAck, f.Seq, &frame.ReadAck{ConvId: req.ConvId, ConvSeq: 8})
	if seq := <-got; seq != 8 {
		t.Errorf("MarkRead = %d, want 8", seq)
	}

	_ = sc.write(protocol.OpReadReceipt, 0, &frame.ReadReceipt{ConvId: "p:u1|u2", Reader: "u2", ConvSeq: 3})
	select {
	case r := <-c.Receipts():
		if r != (Receipt{ConvID: "p:u1|u2", Reader: "u2", ConvSeq: 3}) {
			t.Errorf("receipt = %+v", r)
		}
	case <-time.After(waitTimeout):
		t.Fatal("no receipt")
	}
}

// TestOwnSendJoinsTheInboxWithoutSync: the server does not push a message to the device
// that sent it; the acked send takes its place in the inbox order, so the next push
// continues the sequence instead of looking like a gap.
func TestOwnSendJoinsTheInboxWithoutSync(t *testing.T) {
	s := newTestServer(t)
	c := dial(t, testConfig(t, s))
	sc := s.accept()
	synced(t, c, sc)

	out := sendAsync(t.Context(), c, "mine")
	var req frame.SendRequest
	f := sc.expect(protocol.OpSend, &req)
	own := &common.Message{MsgId: "own-1", ConvId: "p:u1|u2", ConvSeq: 1, Seq: 1, FromUser: c.UserID(),
		ToUser: "u2", Kind: int32(common.MessageKind_CHAT), ContentType: "text/plain", Body: []byte("mine"),
		ClientMsgId: req.ClientMsgId, SentAtMs: 1_700_000_000_000}
	s.store(own) // what a later sync would return
	if err := sc.write(protocol.OpSendAck, f.Seq, &frame.SendAck{ClientMsgId: req.ClientMsgId, MsgId: "own-1",
		ConvId: "p:u1|u2", ConvSeq: 1, Seq: 1, SentAtMs: 1_700_000_000_000}); err != nil {
		t.Fatal(err)
	}
	if o := await(t, out); o.err != nil {
		t.Fatal(o.err)
	}
	got := receive(t, c, 1)
	if got[0].ID != "own-1" || got[0].Seq != 1 || got[0].From != c.UserID() || string(got[0].Body) != "mine" || got[0].ContentType != "text/plain" {
		t.Fatalf("own message handed as %+v", got[0])
	}
	noMore(t, c, sc, 2)
	s.mu.Lock()
	syncs := len(s.syncs)
	s.mu.Unlock()
	if syncs != 1 {
		t.Fatalf("%d syncs, want only the one after connecting", syncs)
	}
}
