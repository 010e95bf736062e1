package gateway

import (
	"errors"
	"strings"
	"testing"

	"github.com/bangbang-im/bangbang/core-im/protocol"
	"github.com/bangbang-im/bangbang/gen/common"
	"github.com/bangbang-im/bangbang/gen/frame"
	logicgen "github.com/bangbang-im/bangbang/gen/logic"
)

func TestRequestsReachLogicAsTheSession(t *testing.T) {
	for _, via := range transports {
		t.Run(via, func(t *testing.T) {
			e := start(t, via, nil)
			c := e.dial(t)
			c.login(e, "m1001", "tablet")

			// SEND, with a trace context: the ack echoes the trace id.
			trace := protocol.TraceContext{TraceID: [16]byte{1, 2, 3}, SpanID: [8]byte{4}, Flags: 1}
			c.seq++
			c.raw(protocol.AppendMessage(nil, protocol.OpSend, c.seq, &trace, &frame.SendRequest{
				ClientMsgId: "c-1", ToUser: "c2001", ContentType: "text/plain", Body: []byte("hello"),
			}))
			var ack frame.SendAck
			c.expect(protocol.OpSendAck, c.seq, &ack)
			if ack.ClientMsgId != "c-1" || ack.MsgId != "m-c-1" || ack.ConvSeq != 7 || ack.Seq != 9 || ack.TraceId != trace.TraceIDString() {
				t.Fatalf("SEND_ACK %+v", ack)
			}

			// SYNC
			e.logic.set(func(f *fakeLogic) {
				f.syncResp = &logicgen.SyncResponse{Messages: []*common.Message{{MsgId: "x", Seq: 3}}, HasMore: true, MaxSeq: 5}
			})
			seq := c.send(protocol.OpSync, &frame.SyncRequest{AfterSeq: 2, Limit: 1})
			var sr frame.SyncResponse
			c.expect(protocol.OpSyncResp, seq, &sr)
			if len(sr.Messages) != 1 || sr.Messages[0].MsgId != "x" || !sr.HasMore || sr.MaxSeq != 5 {
				t.Fatalf("SYNC_RESP %+v", sr)
			}

			// DELIVER_ACK has no reply: the heartbeat after it is answered first.
			c.send(protocol.OpDeliverAck, &frame.DeliverAck{Seq: 3})
			c.heartbeat()

			// READ
			seq = c.send(protocol.OpRead, &frame.ReadRequest{ConvId: "p:c2001|m1001", ConvSeq: 7})
			var ra frame.ReadAck
			c.expect(protocol.OpReadAck, seq, &ra)
			if ra.ConvId != "p:c2001|m1001" || ra.ConvSeq != 8 {
				t.Fatalf("READ_ACK %+v", ra)
			}

			e.logic.mu.Lock()
			defer e.logic.mu.Unlock()
			if s := e.logic.sends[0]; s.UserId != "m1001" || s.DeviceId != "tablet" || s.ToUser != "c2001" || string(s.Body) != "hello" || s.Kind != int32(common.MessageKind_CHAT) {
				t.Fatalf("Send %+v", s)
			}
			if s := e.logic.syncs[0]; s.UserId != "m1001" || s.AfterSeq != 2 || s.Limit != 1 {
				t.Fatalf("Sync %+v", s)
			}
			if a := e.logic.acks[0]; a.UserId != "m1001" || a.DeviceId != "tablet" || a.Seq != 3 {
				t.Fatalf("Ack %+v", a)
			}
			if r := e.logic.reads[0]; r.UserId != "m1001" || r.ConvSeq != 7 {
				t.Fatalf("Read %+v", r)
			}
		})
	}
}

func TestLogicErrors(t *testing.T) {
	for _, via := range transports {
		t.Run(via, func(t *testing.T) {
			e := start(t, via, nil)
			c := e.dial(t)
			c.login(e, "m1001", "tablet")

			e.logic.set(func(f *fakeLogic) {
				f.sendErr = &common.IMError{Code: int32(common.ErrorCode_NOT_FOUND), Message: "no such user", RetryAfterMs: 0}
			})
			seq := c.send(protocol.OpSend, &frame.SendRequest{ClientMsgId: "c-2", ToUser: "nobody"})
			if got := c.expectError(seq, common.ErrorCode_NOT_FOUND); got.Message != "no such user" {
				t.Fatalf("error %+v", got)
			}

			// Any other error did not come from logic's answer but from reaching it:
			// UNAVAILABLE and temporary (the SDK retries), without its text.
			e.logic.set(func(f *fakeLogic) { f.sendErr = errors.New("pq: password authentication failed for db secret") })
			seq = c.send(protocol.OpSend, &frame.SendRequest{ClientMsgId: "c-3", ToUser: "c2001"})
			if got := c.expectError(seq, common.ErrorCode_UNAVAILABLE); got.Message != "service unavailable" || !got.Temporary || strings.Contains(got.Message, "secret") {
				t.Fatalf("error %+v", got)
			}

			// An IMError wrapped by a client library still maps.
			seq = c.send(protocol.OpRead, &frame.ReadRequest{ConvId: "p:a|b", ConvSeq: -1})
			c.expectError(seq, common.ErrorCode_BAD_REQUEST)

			// Clients may only send chat messages.
			seq = c.send(protocol.OpSend, &frame.SendRequest{ClientMsgId: "c-4", ToUser: "c2001", Kind: int32(common.MessageKind_MARKETING)})
			c.expectError(seq, common.ErrorCode_FORBIDDEN)

			seq = c.send(protocol.OpAuth, &frame.AuthRequest{Token: e.token("m1002"), DeviceId: "x"})
			c.expectError(seq, common.ErrorCode_BAD_REQUEST)
			c.heartbeat()
		})
	}
}
