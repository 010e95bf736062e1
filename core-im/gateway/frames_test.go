package gateway

import (
	"encoding/binary"
	"testing"

	"github.com/bangbang-im/bangbang/core-im/protocol"
	"github.com/bangbang-im/bangbang/gen/common"
	"github.com/bangbang-im/bangbang/gen/frame"
)

func header(op protocol.Op, seq, length uint32) []byte {
	b := binary.BigEndian.AppendUint16(nil, protocol.Magic)
	b = append(b, protocol.Version, byte(op), 0, 0)
	b = binary.BigEndian.AppendUint32(b, seq)
	return binary.BigEndian.AppendUint32(b, length)
}

func TestBadFrames(t *testing.T) {
	for _, via := range transports {
		t.Run(via, func(t *testing.T) {
			e := start(t, via, func(c *Config) { c.MaxBody = 1024 })

			t.Run("garbage bytes", func(t *testing.T) {
				c := e.dial(t)
				c.raw([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
				c.expectError(0, common.ErrorCode_BAD_FRAME)
				c.expectClosed()
			})
			t.Run("unsupported version", func(t *testing.T) {
				c := e.dial(t)
				b := header(protocol.OpAuth, 1, 0)
				b[2] = 9
				c.raw(b)
				c.expectError(0, common.ErrorCode_UNSUPPORTED_VERSION)
				c.expectClosed()
			})
			t.Run("oversized length", func(t *testing.T) {
				c := e.dial(t)
				c.login(e, "m1001", "d-big")
				c.raw(header(protocol.OpSend, 5, 1025))
				c.expectError(0, common.ErrorCode_FRAME_TOO_LARGE)
				c.expectClosed()
			})
			t.Run("garbage after a good frame", func(t *testing.T) {
				c := e.dial(t)
				c.login(e, "m1001", "d-garbage")
				b := protocol.AppendMessage(nil, protocol.OpHeartbeat, 3, nil, &frame.Heartbeat{})
				c.raw(append(b, 0, 0, 0, 0))
				c.expect(protocol.OpHeartbeatAck, 3, nil)
				c.expectError(0, common.ErrorCode_BAD_FRAME)
				c.expectClosed()
			})
			t.Run("unknown op keeps the connection", func(t *testing.T) {
				c := e.dial(t)
				c.login(e, "m1001", "d-unknown")
				c.raw(protocol.AppendFrame(nil, &protocol.Frame{Op: 99, Seq: 11, Body: []byte{0}}))
				c.expectError(11, common.ErrorCode_UNKNOWN_OPERATION)
				c.heartbeat()
			})
			t.Run("server-only op", func(t *testing.T) {
				c := e.dial(t)
				c.login(e, "m1001", "d-serveronly")
				seq := c.send(protocol.OpPush, &frame.Push{})
				c.expectError(seq, common.ErrorCode_BAD_REQUEST)
				c.heartbeat()
			})
			t.Run("bad body keeps the connection", func(t *testing.T) {
				c := e.dial(t)
				c.login(e, "m1001", "d-badbody")
				c.raw(protocol.AppendFrame(nil, &protocol.Frame{Op: protocol.OpSend, Seq: 12, Body: []byte{0x0b, 0, 1, 0xff, 0xff, 0xff, 0xff}}))
				c.expectError(12, common.ErrorCode_BAD_REQUEST)
				c.raw(protocol.AppendFrame(nil, &protocol.Frame{Op: protocol.OpHeartbeat, Seq: 13, Body: []byte{1, 2, 3}}))
				c.expectError(13, common.ErrorCode_BAD_REQUEST)
				c.heartbeat()
			})
			t.Run("truncated frame then client close", func(t *testing.T) {
				e.eventually(t, "earlier connections closed", func() bool { return e.g.Stats().Open == 0 })
				c := e.dial(t)
				e.eventually(t, "connection registered", func() bool { return e.g.Stats().Open == 1 })
				b := protocol.AppendMessage(nil, protocol.OpAuth, 1, nil, &frame.AuthRequest{Token: e.token("m1001"), DeviceId: "d"})
				if c.ws != nil {
					// Over WebSocket a message holds whole frames: truncate the message itself.
					_, _ = c.ws.nc.Write([]byte{0x82, 0x80 | 100, 1, 2, 3, 4, 5})
				} else {
					c.raw(b[:len(b)/2])
				}
				c.close()
				e.eventually(t, "connection released", func() bool { return e.g.Stats().Open == 0 })
			})
			if via == viaWS {
				t.Run("message ending inside a frame", func(t *testing.T) {
					c := e.dial(t)
					b := protocol.AppendMessage(nil, protocol.OpAuth, 1, nil, &frame.AuthRequest{Token: "t", DeviceId: "d"})
					c.raw(b[:len(b)-1])
					c.expectError(0, common.ErrorCode_BAD_FRAME)
					c.expectClosed()
				})
			}
		})
	}
}
