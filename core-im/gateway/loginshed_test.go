package gateway

import (
	"testing"

	"github.com/bangbang-im/bangbang/core-im/protocol"
	"github.com/bangbang-im/bangbang/gen/common"
	"github.com/bangbang-im/bangbang/gen/frame"
	logicgen "github.com/bangbang-im/bangbang/gen/logic"
)

// With MaxLoginsInFlight logins at logic, one more AUTH is refused at once (UNAVAILABLE,
// temporary, a retry-after of 0.5–1.5 s) and counted, instead of queueing; the logins
// under way complete, and their slots serve the next ones. A renewal is never refused.
func TestLoginsBeyondTheBoundAreShedAtOnce(t *testing.T) {
	for _, via := range transports {
		t.Run(via, func(t *testing.T) {
			e := start(t, via, func(c *Config) { c.MaxLoginsInFlight = 2 })
			renewing := e.dial(t)
			renewing.login(e, "m1009", "phone")

			release := make(chan struct{})
			entered := make(chan struct{}, 8)
			e.logic.set(func(f *fakeLogic) {
				f.onConnect = func(*logicgen.ConnectRequest) {
					entered <- struct{}{}
					<-release
				}
			})
			a, b := e.dial(t), e.dial(t)
			seqA := a.send(protocol.OpAuth, &frame.AuthRequest{Token: e.token("m1001"), DeviceId: "phone"})
			seqB := b.send(protocol.OpAuth, &frame.AuthRequest{Token: e.token("m1002"), DeviceId: "phone"})
			<-entered
			<-entered // both slots are taken, at logic

			c := e.dial(t)
			seqC := c.send(protocol.OpAuth, &frame.AuthRequest{Token: e.token("m1003"), DeviceId: "phone"})
			shed := c.expectError(seqC, common.ErrorCode_UNAVAILABLE)
			if !shed.Temporary || shed.RetryAfterMs < 500 || shed.RetryAfterMs >= 1500 {
				t.Errorf("shed login: temporary %v, retry after %d ms; want temporary, 500..1499", shed.Temporary, shed.RetryAfterMs)
			}
			c.expectClosed()
			if n := e.g.Stats().LoginsShed; n != 1 {
				t.Errorf("%d logins shed counted, want 1", n)
			}

			// A renewal AUTH of an open session goes to logic even now.
			e.logic.set(func(f *fakeLogic) { f.onConnect = nil })
			seqR := renewing.send(protocol.OpAuth, &frame.AuthRequest{Token: e.token("m1009"), DeviceId: "phone"})
			renewing.expect(protocol.OpAuthOK, seqR, &frame.AuthResponse{})

			close(release)
			a.expect(protocol.OpAuthOK, seqA, &frame.AuthResponse{})
			b.expect(protocol.OpAuthOK, seqB, &frame.AuthResponse{})
			e.dial(t).login(e, "m1004", "phone") // the slots are free again
		})
	}
}
