package gateway

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/bangbang-im/bangbang/core-im/protocol"
	"github.com/bangbang-im/bangbang/gen/common"
	"github.com/bangbang-im/bangbang/gen/frame"
)

// expectWSClose reads past the frames before the close (which it returns) and checks the
// close frame's code and reason.
func (c *client) expectWSClose(code int, reason string) {
	c.t.Helper()
	for {
		_, _, err := c.ws.readMessage(time.Now().Add(waitTimeout))
		if err == nil {
			continue
		}
		var cl *wsClosed
		if !errors.As(err, &cl) {
			c.t.Fatalf("want a close frame %d, got %v (1006 to a browser)", code, err)
		}
		if cl.code != code || cl.reason != reason {
			c.t.Fatalf("close %d %q, want %d %q", cl.code, cl.reason, code, reason)
		}
		return
	}
}

// Every way the gateway ends a WebSocket session sends a close frame whose code says why,
// after the session's last frame.
func TestWSCloseCodes(t *testing.T) {
	e := start(t, viaWS, func(c *Config) { c.MaxBody = 1024 })
	t.Run("text message: protocol error", func(t *testing.T) {
		c := e.dial(t)
		if err := c.ws.writeText([]byte("hello")); err != nil {
			t.Fatal(err)
		}
		c.expectError(0, common.ErrorCode_BAD_FRAME)
		c.expectWSClose(1002, "BAD_FRAME")
	})
	t.Run("frame over the limit: too big", func(t *testing.T) {
		c := e.dial(t)
		c.login(e, "m1001", "d-big")
		c.raw(header(protocol.OpSend, 5, 1025))
		c.expectError(0, common.ErrorCode_FRAME_TOO_LARGE)
		c.expectWSClose(1009, "FRAME_TOO_LARGE")
	})
	t.Run("bad token: policy", func(t *testing.T) {
		c := e.dial(t)
		seq := c.send(protocol.OpAuth, &frame.AuthRequest{Token: "not-a-token", DeviceId: "d", Platform: "web"})
		c.expectError(seq, common.ErrorCode_TOKEN_INVALID)
		c.expectWSClose(1008, "TOKEN_INVALID")
	})
	t.Run("frame before AUTH: policy", func(t *testing.T) {
		c := e.dial(t)
		c.send(protocol.OpHeartbeat, &frame.Heartbeat{})
		c.expectError(1, common.ErrorCode_UNAUTHENTICATED)
		c.expectWSClose(1008, "UNAUTHENTICATED")
	})
	t.Run("kick: policy", func(t *testing.T) {
		c := e.dial(t)
		id := c.login(e, "m1001", "d-kick").SessionId
		if !kick(t, e.g, id, frame.KickReason_REPLACED) {
			t.Fatal("kick found no connection")
		}
		c.expect(protocol.OpKick, 0, nil)
		c.expectWSClose(1008, "KICK REPLACED")
	})
	t.Run("logic unavailable: try again later", func(t *testing.T) {
		e.logic.set(func(f *fakeLogic) { f.connectErr = context.DeadlineExceeded })
		defer e.logic.set(func(f *fakeLogic) { f.connectErr = nil })
		c := e.dial(t)
		seq := c.send(protocol.OpAuth, &frame.AuthRequest{Token: e.token("m1001"), DeviceId: "d-unavail", Platform: "web"})
		c.expectError(seq, common.ErrorCode_UNAVAILABLE)
		c.expectWSClose(1013, "UNAVAILABLE")
	})
	t.Run("drain: going away", func(t *testing.T) {
		c := e.dial(t)
		c.login(e, "m1001", "d-drain")
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := e.g.Shutdown(ctx); err != nil {
			t.Fatal(err)
		}
		c.expect(protocol.OpReconnect, 0, nil)
		c.expectWSClose(1001, "RECONNECT")
	})
}

func TestWSCloseFor(t *testing.T) {
	if code, reason := wsCloseFor(nil); code != 1000 || reason != "" {
		t.Errorf("no last frame: %d %q, want 1000", code, reason)
	}
	for c, want := range map[common.ErrorCode]int{
		common.ErrorCode_BAD_FRAME: 1002, common.ErrorCode_UNSUPPORTED_VERSION: 1002,
		common.ErrorCode_FRAME_TOO_LARGE: 1009, common.ErrorCode_UNAUTHENTICATED: 1008,
		common.ErrorCode_TOKEN_EXPIRED: 1008, common.ErrorCode_RATE_LIMITED: 1008,
		common.ErrorCode_INTERNAL: 1011, common.ErrorCode_UNAVAILABLE: 1013,
	} {
		last := encode(protocol.OpError, 0, &frame.Error{Code: int32(c)})
		if code, reason := wsCloseFor(last); code != want || reason != c.String() {
			t.Errorf("ERROR %s: %d %q, want %d", c, code, reason, want)
		}
	}
}
