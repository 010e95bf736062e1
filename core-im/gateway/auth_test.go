package gateway

import (
	"strings"
	"testing"
	"time"

	"github.com/bangbang-im/bangbang/core-im/auth"
	"github.com/bangbang-im/bangbang/core-im/protocol"
	"github.com/bangbang-im/bangbang/gen/common"
	"github.com/bangbang-im/bangbang/gen/frame"
)

func TestAuthOK(t *testing.T) {
	for _, via := range transports {
		t.Run(via, func(t *testing.T) {
			e := start(t, via, func(c *Config) { c.HeartbeatInterval = 20 * time.Second })
			c := e.dial(t)
			ok := c.login(e, "m1001", "phone-1")
			if ok.UserId != "m1001" || ok.MaxSeq != 42 || ok.AckedSeq != 40 || ok.HeartbeatIntervalMs != 20000 {
				t.Fatalf("AUTH_OK %+v", ok)
			}
			e.logic.mu.Lock()
			got := e.logic.connects[0]
			e.logic.mu.Unlock()
			if got.UserId != "m1001" || got.DeviceId != "phone-1" || got.Platform != "ios" || got.Node != "gw-test" || got.ConnId != ok.SessionId {
				t.Fatalf("Connect %+v, session %q", got, ok.SessionId)
			}
			if s := e.g.Stats(); s.Open != 1 || s.Authenticated != 1 {
				t.Fatalf("stats %+v", s)
			}
			c.heartbeat()
		})
	}
}

func TestAuthRefused(t *testing.T) {
	for _, via := range transports {
		t.Run(via, func(t *testing.T) {
			e := start(t, via, func(c *Config) { c.AuthTimeout = 200 * time.Millisecond })
			past, err := auth.NewTokens(testSecret, time.Minute, func() time.Time { return time.Now().Add(-time.Hour) })
			if err != nil {
				t.Fatal(err)
			}
			expired, _, _ := past.Issue("m1001", "merchant")
			other, err := auth.NewTokens([]byte(strings.Repeat("x", auth.MinSecretBytes)), time.Hour, nil)
			if err != nil {
				t.Fatal(err)
			}
			forged, _, _ := other.Issue("m1001", "merchant")

			var authed string
			t.Run("no auth within the deadline", func(t *testing.T) {
				c := e.dial(t)
				c.expectError(0, common.ErrorCode_UNAUTHENTICATED)
				c.expectClosed()
			})
			t.Run("frame before auth", func(t *testing.T) {
				c := e.dial(t)
				seq := c.send(protocol.OpHeartbeat, &frame.Heartbeat{})
				c.expectError(seq, common.ErrorCode_UNAUTHENTICATED)
				c.expectClosed()
			})
			for _, tc := range []struct {
				name, token string
				code        common.ErrorCode
			}{
				{"expired token", expired, common.ErrorCode_TOKEN_EXPIRED},
				{"forged token", forged, common.ErrorCode_TOKEN_INVALID},
				{"garbage token", "not.a.token", common.ErrorCode_TOKEN_INVALID},
			} {
				t.Run(tc.name, func(t *testing.T) {
					c := e.dial(t)
					seq := c.send(protocol.OpAuth, &frame.AuthRequest{Token: tc.token, DeviceId: "d1"})
					c.expectError(seq, tc.code)
					c.expectClosed()
				})
			}
			t.Run("bad fields keep the connection", func(t *testing.T) {
				c := e.dial(t)
				seq := c.send(protocol.OpAuth, &frame.AuthRequest{Token: e.token("m1001"), DeviceId: ""})
				c.expectError(seq, common.ErrorCode_BAD_REQUEST)
				seq = c.send(protocol.OpAuth, &frame.AuthRequest{Token: e.token("m1001"), DeviceId: strings.Repeat("d", 65)})
				c.expectError(seq, common.ErrorCode_BAD_REQUEST)
				c.raw(protocol.AppendFrame(nil, &protocol.Frame{Op: protocol.OpAuth, Seq: 77, Body: []byte{0xff, 1, 2}}))
				c.expectError(77, common.ErrorCode_BAD_REQUEST)
				authed = c.login(e, "m1001", "d1").SessionId
			})
			t.Run("logic refuses", func(t *testing.T) {
				e.logic.set(func(f *fakeLogic) {
					f.connectErr = &common.IMError{Code: int32(common.ErrorCode_UNAVAILABLE), Message: "route table down", Temporary: true, RetryAfterMs: 500}
				})
				defer e.logic.set(func(f *fakeLogic) { f.connectErr = nil })
				c := e.dial(t)
				seq := c.send(protocol.OpAuth, &frame.AuthRequest{Token: e.token("m1002"), DeviceId: "d1"})
				got := c.expectError(seq, common.ErrorCode_UNAVAILABLE)
				if !got.Temporary || got.RetryAfterMs != 500 || got.Message != "route table down" {
					t.Fatalf("error %+v", got)
				}
				c.expectClosed()
			})
			// Only one connection above authenticated: only its route is disconnected.
			e.eventually(t, "connections to close", func() bool { return e.g.Stats().Open == 0 })
			e.eventually(t, "disconnect", func() bool { return len(e.logic.disconnected()) > 0 })
			if d := e.logic.disconnected(); len(d) != 1 || d[0] != authed {
				t.Fatalf("Disconnect called for %v, want [%s]", d, authed)
			}
		})
	}
}

// A second login of the same user on the same device: logic finds the old route and kicks
// it through GatewayService.Kick; the old connection gets KICK{REPLACED} and is closed.
func TestSecondLoginKicksTheFirst(t *testing.T) {
	for _, via := range transports {
		t.Run(via, func(t *testing.T) {
			e := start(t, via, nil)
			old := e.dial(t)
			first := old.login(e, "m1001", "phone")
			e.logic.set(func(f *fakeLogic) {
				f.onConnect = func(req *gatewayConnect) {
					if s := e.g.table.byDevice(req.UserId, req.DeviceId); s != nil {
						kick(t, e.g, s.id, frame.KickReason_REPLACED)
					}
				}
			})
			fresh := e.dial(t)
			second := fresh.login(e, "m1001", "phone")
			if second.SessionId == first.SessionId {
				t.Fatal("same session id twice")
			}
			var k frame.Kick
			old.expect(protocol.OpKick, 0, &k)
			if k.Reason != int32(frame.KickReason_REPLACED) {
				t.Fatalf("kick %+v", k)
			}
			old.expectClosed()
			fresh.heartbeat()
			e.eventually(t, "old route disconnected", func() bool {
				d := e.logic.disconnected()
				return len(d) == 1 && d[0] == first.SessionId
			})
			if s := e.g.table.byDevice("m1001", "phone"); s == nil || s.id != second.SessionId {
				t.Fatalf("device bound to %v, want %s", s, second.SessionId)
			}
		})
	}
}
