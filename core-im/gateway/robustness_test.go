package gateway

import (
	"context"
	"slices"
	"testing"

	"github.com/bangbang-im/bangbang/core-im/protocol"
	"github.com/bangbang-im/bangbang/gen/common"
	"github.com/bangbang-im/bangbang/gen/frame"
	gatewaygen "github.com/bangbang-im/bangbang/gen/gateway"
)

// A panic while serving one connection closes that connection only.
func TestPanicClosesOnlyItsConnection(t *testing.T) {
	for _, via := range transports {
		t.Run(via, func(t *testing.T) {
			e := start(t, via, nil)
			victim, bystander := e.dial(t), e.dial(t)
			id := victim.login(e, "m1001", "phone").SessionId
			bystander.login(e, "m1002", "phone")
			e.logic.set(func(f *fakeLogic) { f.sendPanic = true })
			victim.send(protocol.OpSend, &frame.SendRequest{ClientMsgId: "boom", ToUser: "c1"})
			victim.expectClosed()
			e.eventually(t, "disconnect", func() bool { return slices.Contains(e.logic.disconnected(), id) })
			bystander.heartbeat()
			again := e.dial(t)
			again.login(e, "m1001", "phone")
		})
	}
}

func TestWebSocketTextMessageRefused(t *testing.T) {
	e := start(t, viaWS, nil)
	c := e.dial(t)
	if err := c.ws.writeText([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	c.expectError(0, common.ErrorCode_BAD_FRAME)
	c.expectClosed()
}

func TestDrainRefusesNewLogins(t *testing.T) {
	for _, via := range transports {
		t.Run(via, func(t *testing.T) {
			e := start(t, via, nil)
			a, b := e.dial(t), e.dial(t)
			a.login(e, "m1001", "phone")
			b.login(e, "m1002", "phone")
			resp, err := e.g.Drain(context.Background(), &gatewaygen.DrainRequest{MaxDelayMs: 100})
			if err != nil || resp.Connections != 2 {
				t.Fatalf("Drain = %+v, %v", resp, err)
			}
			for _, c := range []*client{a, b} {
				var r frame.Reconnect
				c.expect(protocol.OpReconnect, 0, &r)
				if r.AfterMs < 0 || r.AfterMs >= 100 {
					t.Fatalf("after_ms %d", r.AfterMs)
				}
				c.expectClosed()
			}
			late := e.dial(t)
			seq := late.send(protocol.OpAuth, &frame.AuthRequest{Token: e.token("m1003"), DeviceId: "d"})
			if got := late.expectError(seq, common.ErrorCode_UNAVAILABLE); !got.Temporary {
				t.Fatalf("error %+v", got)
			}
			late.expectClosed()
		})
	}
}
