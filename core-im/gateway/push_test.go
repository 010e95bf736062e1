package gateway

import (
	"context"
	"slices"
	"testing"

	"github.com/bangbang-im/bangbang/core-im/protocol"
	"github.com/bangbang-im/bangbang/gen/common"
	"github.com/bangbang-im/bangbang/gen/frame"
	gatewaygen "github.com/bangbang-im/bangbang/gen/gateway"
	logicgen "github.com/bangbang-im/bangbang/gen/logic"
)

func kick(t *testing.T, g *Gateway, connID string, reason frame.KickReason) bool {
	t.Helper()
	resp, err := g.Kick(context.Background(), &gatewaygen.KickRequest{ConnId: connID, Reason: int32(reason), Message: "bye"})
	if err != nil {
		t.Fatal(err)
	}
	return resp.Found
}

func TestDeliverReachesTheRightConnections(t *testing.T) {
	for _, via := range transports {
		t.Run(via, func(t *testing.T) {
			e := start(t, via, nil)
			a, b, c := e.dial(t), e.dial(t), e.dial(t)
			idA := a.login(e, "m1001", "phone").SessionId
			b.login(e, "m1001", "tablet")
			idC := c.login(e, "c2001", "web").SessionId

			push := protocol.EncodeBody(&frame.Push{Messages: []*common.Message{{MsgId: "msg-1", Seq: 1, Body: []byte("hi")}}})
			receipt := protocol.EncodeBody(&frame.ReadReceipt{ConvId: "p:c2001|m1001", Reader: "c2001", ConvSeq: 4})
			resp, err := e.g.Deliver(context.Background(), &gatewaygen.DeliverRequest{Deliveries: []*gatewaygen.Delivery{
				{ConnIds: []string{idA, idC, "gone-1"}, Op: int32(protocol.OpPush), Body: push},
				{ConnIds: []string{idA}, Op: int32(protocol.OpReadReceipt), Body: receipt},
			}})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(resp.Missing, []string{"gone-1"}) || len(resp.Dropped) != 0 {
				t.Fatalf("response %+v", resp)
			}
			for _, cl := range []*client{a, c} {
				var p frame.Push
				cl.expect(protocol.OpPush, 0, &p)
				if len(p.Messages) != 1 || p.Messages[0].MsgId != "msg-1" || string(p.Messages[0].Body) != "hi" {
					t.Fatalf("push %+v", p)
				}
			}
			var rr frame.ReadReceipt
			a.expect(protocol.OpReadReceipt, 0, &rr)
			if rr.Reader != "c2001" || rr.ConvSeq != 4 {
				t.Fatalf("receipt %+v", rr)
			}
			// b got nothing: its next frame is the answer to its own heartbeat.
			b.heartbeat()
		})
	}
}

func TestDeliverRefusesClientOps(t *testing.T) {
	e := start(t, viaNetpoll, nil)
	for _, op := range []int32{int32(protocol.OpSend), 0, 200, -1, 1 << 20} {
		_, err := e.g.Deliver(context.Background(), &gatewaygen.DeliverRequest{Deliveries: []*gatewaygen.Delivery{{Op: op}}})
		if ime, ok := err.(*common.IMError); !ok || ime.Code != int32(common.ErrorCode_BAD_REQUEST) {
			t.Fatalf("op %d: %v", op, err)
		}
	}
}

func TestKickClosesWithKickFrame(t *testing.T) {
	for _, via := range transports {
		t.Run(via, func(t *testing.T) {
			e := start(t, via, nil)
			c := e.dial(t)
			id := c.login(e, "m1001", "phone").SessionId
			if !kick(t, e.g, id, frame.KickReason_AUTH_REVOKED) {
				t.Fatal("Kick: not found")
			}
			var k frame.Kick
			c.expect(protocol.OpKick, 0, &k)
			if k.Reason != int32(frame.KickReason_AUTH_REVOKED) || k.Message != "bye" {
				t.Fatalf("kick %+v", k)
			}
			c.expectClosed()
			e.eventually(t, "disconnect", func() bool { return slices.Equal(e.logic.disconnected(), []string{id}) })
			if kick(t, e.g, id, frame.KickReason_AUTH_REVOKED) {
				t.Fatal("Kick of a closed connection: found")
			}
			if s := e.g.Stats(); s.Open != 0 || s.Authenticated != 0 {
				t.Fatalf("stats %+v", s)
			}
		})
	}
}

// TestDeliverDuringAuthKeepsTheRoute: a push can reach the node after logic registered the
// route but before AUTH_OK is out. The connection must not be reported missing (logic
// would delete its fresh route and the device would get no pushes until renewal), and
// nothing may precede AUTH_OK; the client's sync after AUTH_OK fetches the message.
func TestDeliverDuringAuthKeepsTheRoute(t *testing.T) {
	for _, via := range transports {
		t.Run(via, func(t *testing.T) {
			e := start(t, via, nil)
			push := protocol.EncodeBody(&frame.Push{Messages: []*common.Message{{MsgId: "early", Seq: 1}}})
			delivered := make(chan *gatewaygen.DeliverResponse, 1) // the server's goroutine hands the answer over
			e.logic.mu.Lock()
			e.logic.onConnect = func(req *logicgen.ConnectRequest) {
				resp, err := e.g.Deliver(context.Background(), &gatewaygen.DeliverRequest{Deliveries: []*gatewaygen.Delivery{
					{ConnIds: []string{req.ConnId}, Op: int32(protocol.OpPush), Body: push}}})
				if err != nil {
					t.Error(err)
				}
				delivered <- resp
			}
			e.logic.mu.Unlock()
			c := e.dial(t)
			c.login(e, "m1001", "phone") // fails if the push came before AUTH_OK
			var resp *gatewaygen.DeliverResponse
			select {
			case resp = <-delivered: // Connect ran before AUTH_OK, which login has read
			default:
				t.Fatal("Deliver did not run during the login")
			}
			if resp == nil || len(resp.Missing) != 0 || len(resp.Dropped) != 0 {
				t.Fatalf("deliver during auth: %+v", resp)
			}
			c.heartbeat() // the next frame is the heartbeat's answer, not the skipped push
		})
	}
}

// A burst bigger than one writev may carry (IOV_MAX, 1,024 frames on Linux) reaches the
// client whole and in order on every transport: the event loop merges a connection's
// queued writes into one and must split what it hands the system call.
func TestDeliverBurstPastIOVMaxKeepsOrder(t *testing.T) {
	const burst = 3000
	for _, via := range transports {
		t.Run(via, func(t *testing.T) {
			e := start(t, via, func(c *Config) { c.SendQueue = 2 * burst })
			c := e.dial(t)
			id := c.login(e, "m1001", "phone").SessionId
			ds := make([]*gatewaygen.Delivery, burst)
			for i := range ds {
				ds[i] = &gatewaygen.Delivery{ConnIds: []string{id}, Op: int32(protocol.OpPush),
					Body: protocol.EncodeBody(&frame.Push{Messages: []*common.Message{{MsgId: "m", Seq: int64(i + 1)}}})}
			}
			// Two calls, so the second's frames queue behind the first's in the writer.
			for half := range 2 {
				resp, err := e.g.Deliver(context.Background(), &gatewaygen.DeliverRequest{Deliveries: ds[half*burst/2 : (half+1)*burst/2]})
				if err != nil || len(resp.Missing)+len(resp.Dropped) != 0 {
					t.Fatalf("Deliver: %+v, %v", resp, err)
				}
			}
			for i := range burst {
				var p frame.Push
				c.expect(protocol.OpPush, 0, &p)
				if len(p.Messages) != 1 || p.Messages[0].Seq != int64(i+1) {
					t.Fatalf("frame %d: %+v, want seq %d", i, p.Messages, i+1)
				}
			}
			c.heartbeat() // still open
		})
	}
}

// merge gives each connection one entry with its frames in queue order, and keeps the
// connections in the order they first appear.
func TestLoopWriterMergesPerConnection(t *testing.T) {
	a, b, c := &loopConn{}, &loopConn{}, &loopConn{}
	f := func(s string) []byte { return []byte(s) }
	batch := []loopWrite{
		{lc: a, frames: [][]byte{f("a1"), f("a2")}, n: 4},
		{lc: b, frames: [][]byte{f("b1")}, n: 2},
		{lc: a, frames: [][]byte{f("a3")}, n: 2},
		{lc: c, frames: [][]byte{f("c1")}, n: 2},
		{lc: b, frames: [][]byte{f("b2"), f("b3")}, n: 4},
	}
	lw := &loopWriter{}
	got := lw.merge(batch)
	want := []struct {
		lc     *loopConn
		frames string
		n      int
	}{{a, "a1a2a3", 6}, {b, "b1b2b3", 6}, {c, "c1", 2}}
	if len(got) != len(want) {
		t.Fatalf("%d entries, want %d", len(got), len(want))
	}
	for i, w := range want {
		if got[i].lc != w.lc || string(slices.Concat(got[i].frames...)) != w.frames || got[i].n != w.n {
			t.Errorf("entry %d: %q (%d bytes), want %q (%d)", i, slices.Concat(got[i].frames...), got[i].n, w.frames, w.n)
		}
	}
	if len(lw.slot) != 0 {
		t.Errorf("scratch map keeps %d connections after the run", len(lw.slot))
	}
	// The next run starts afresh.
	if again := lw.merge([]loopWrite{{lc: c, frames: [][]byte{f("c2")}, n: 2}, {lc: a, frames: [][]byte{f("a4")}, n: 2}}); len(again) != 2 || again[0].lc != c {
		t.Errorf("second run: %+v", again)
	}
}
