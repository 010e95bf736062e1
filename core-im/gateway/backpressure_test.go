package gateway

import (
	"context"
	"net"
	"testing"

	"github.com/bangbang-im/bangbang/core-im/protocol"
	"github.com/bangbang-im/bangbang/gen/common"
	"github.com/bangbang-im/bangbang/gen/frame"
	gatewaygen "github.com/bangbang-im/bangbang/gen/gateway"
)

// A client that stops reading fills its socket, then its send queue: it is dropped and
// counted, and a healthy connection on the same node keeps receiving.
func TestSlowConsumerIsDropped(t *testing.T) {
	for _, via := range transports {
		t.Run(via, func(t *testing.T) {
			e := start(t, via, func(c *Config) { c.SendQueue = 8 })
			slow, healthy := e.dial(t), e.dial(t)
			raw := slow.nc
			if slow.ws != nil {
				raw = slow.ws.nc
			}
			_ = raw.(*net.TCPConn).SetReadBuffer(4096)
			slowID := slow.login(e, "m1001", "phone").SessionId
			healthyID := healthy.login(e, "m1002", "phone").SessionId

			body := protocol.EncodeBody(&frame.Push{Messages: []*common.Message{{MsgId: "big", Body: make([]byte, 32<<10)}}})
			deliver := func(id string) *gatewaygen.DeliverResponse {
				resp, err := e.g.Deliver(context.Background(), &gatewaygen.DeliverRequest{Deliveries: []*gatewaygen.Delivery{
					{ConnIds: []string{id}, Op: int32(protocol.OpPush), Body: body},
				}})
				if err != nil {
					t.Fatal(err)
				}
				return resp
			}
			// Each frame is let through to the socket before the next, until the socket
			// buffers are full and a write blocks; only then does the queue fill up.
			s := e.g.table.get(slowID)
			settled := func() bool {
				s.mu.Lock()
				defer s.mu.Unlock()
				return s.state != stateOpen || !s.scheduled || s.writing
			}
			dropped := false
			for i := 0; i < 5000 && !dropped; i++ {
				resp := deliver(slowID)
				dropped = len(resp.Dropped) == 1
				if len(resp.Missing) != 0 {
					t.Fatalf("slow connection missing before being dropped: %+v", resp)
				}
				e.eventually(t, "flush settled", settled)
			}
			if !dropped {
				t.Fatal("send queue never overflowed")
			}
			if got := e.g.Stats().Dropped; got != 1 {
				t.Fatalf("dropped %d", got)
			}
			e.eventually(t, "slow connection closed", func() bool { return e.g.table.get(slowID) == nil })
			if resp := deliver(slowID); len(resp.Missing) != 1 {
				t.Fatalf("after the drop: %+v", resp)
			}
			if resp := deliver(healthyID); len(resp.Missing)+len(resp.Dropped) != 0 {
				t.Fatalf("healthy: %+v", resp)
			}
			healthy.expect(protocol.OpPush, 0, nil)
			healthy.heartbeat()
		})
	}
}

func TestFloodIsRateLimited(t *testing.T) {
	for _, via := range transports {
		t.Run(via, func(t *testing.T) {
			e := start(t, via, func(c *Config) {
				c.FrameRate = 0.001 // no refill within the test
				c.FrameBurst = 4
			})
			c := e.dial(t)
			c.login(e, "m1001", "phone") // one token
			for range 3 {
				c.heartbeat()
			}
			// Refused from here on: RATE_LIMITED, and the frame is not processed.
			seq := c.send(protocol.OpSend, &frame.SendRequest{ClientMsgId: "flood", ToUser: "c1"})
			got := c.expectError(seq, common.ErrorCode_RATE_LIMITED)
			if !got.Temporary || got.RetryAfterMs <= 0 {
				t.Fatalf("error %+v", got)
			}
			// Sustained without waiting: once more turns are owed than the burst, the
			// connection is closed as a flood, with ERROR RATE_LIMITED seq 0.
			batch := []byte{}
			for i := range 4 {
				batch = protocol.AppendMessage(batch, protocol.OpHeartbeat, uint32(100+i), nil, &frame.Heartbeat{})
			}
			c.raw(batch)
			for i := range 3 {
				c.expectError(uint32(100+i), common.ErrorCode_RATE_LIMITED)
			}
			if last := c.expectError(0, common.ErrorCode_RATE_LIMITED); last.Message != floodMessage {
				t.Fatalf("flood close %+v", last)
			}
			c.expectClosed()
			e.logic.mu.Lock()
			sends := len(e.logic.sends)
			e.logic.mu.Unlock()
			if sends != 0 {
				t.Fatalf("a refused SEND reached logic")
			}
			if s := e.g.Stats(); s.RateLimited != 5 || s.Floods != 1 || s.Dropped != 0 {
				t.Fatalf("rate limited %d, floods %d, slow consumers %d; want 5, 1, 0", s.RateLimited, s.Floods, s.Dropped)
			}
		})
	}
}
