package gateway

import (
	"fmt"
	"slices"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/bangbang-im/bangbang/core-im/protocol"
	"github.com/bangbang-im/bangbang/gen/common"
	"github.com/bangbang-im/bangbang/gen/frame"
)

func (f *fakeLogic) calls() (sizes []int, ids []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, s := range f.sends {
		ids = append(ids, s.ClientMsgId)
	}
	return slices.Clone(f.sendCalls), ids
}

// A SEND waiting for logic holds up nothing else: the connection's next frames are read
// and answered meanwhile.
func TestSendDoesNotHoldUpTheConnection(t *testing.T) {
	for _, via := range transports {
		t.Run(via, func(t *testing.T) {
			e := start(t, via, nil)
			gate := make(chan struct{})
			e.logic.set(func(f *fakeLogic) { f.sendGate = gate })
			c := e.dial(t)
			c.login(e, "m1001", "phone")
			send := c.send(protocol.OpSend, &frame.SendRequest{ClientMsgId: "slow", ToUser: "c1", Body: []byte("hi")})
			e.eventually(t, "the send to reach logic", func() bool { n, _ := e.logic.calls(); return len(n) == 1 })
			c.heartbeat() // answered while the SEND waits
			close(gate)
			var ack frame.SendAck
			c.expect(protocol.OpSendAck, send, &ack)
			if ack.ClientMsgId != "slow" || ack.MsgId != "m-slow" {
				t.Fatalf("ack %+v", &ack)
			}
		})
	}
}

// SENDs read while a logic call runs go in the next call, all together and in order, no
// more than the window at a time; their acks come back in order, a refused one answered
// alone.
func TestSendsArePipelinedInOrderWithinTheWindow(t *testing.T) {
	const window = 4
	for _, via := range transports {
		t.Run(via, func(t *testing.T) {
			e := start(t, via, func(c *Config) { c.SendWindow = window })
			gate := make(chan struct{})
			e.logic.set(func(f *fakeLogic) { f.sendGate = gate })
			c := e.dial(t)
			c.login(e, "m1001", "phone")
			const n = 11
			var seqs []uint32
			for i := range n {
				to := "c1"
				if i == 5 {
					to = "nobody"
				}
				seqs = append(seqs, c.send(protocol.OpSend, &frame.SendRequest{ClientMsgId: fmt.Sprint("s", i), ToUser: to, Body: []byte("hi")}))
			}
			e.eventually(t, "the first send to reach logic", func() bool { n, _ := e.logic.calls(); return len(n) == 1 })
			// The reader fills the window behind the first call, then waits inside the next
			// SEND: AUTH, the first call's SEND, window more.
			e.eventually(t, "the window to fill", func() bool { return e.g.Stats().FramesIn >= uint64(2+window) })
			close(gate)
			for i, seq := range seqs {
				if i == 5 {
					c.expectError(seq, common.ErrorCode_NOT_FOUND)
					continue
				}
				var ack frame.SendAck
				c.expect(protocol.OpSendAck, seq, &ack)
				if want := fmt.Sprint("s", i); ack.ClientMsgId != want {
					t.Fatalf("ack %d is for %s, want %s", i, ack.ClientMsgId, want)
				}
			}
			sizes, ids := e.logic.calls()
			want := make([]string, n)
			for i := range want {
				want[i] = fmt.Sprint("s", i)
			}
			if !slices.Equal(ids, want) {
				t.Errorf("logic got the sends in the order %v, want %v", ids, want)
			}
			// While the first call waited, the reader filled the window and stopped: the
			// second call carries what was read meanwhile, and no call more than the window.
			if len(sizes) < 3 || sizes[0]+sizes[1] < window {
				t.Errorf("sends per call %v: want the window (%d) filled while the first call waited", sizes, window)
			}
			if got := e.g.Stats().FramesIn; got != uint64(1+n) {
				t.Errorf("%d frames read, want %d", got, 1+n)
			}
			for _, k := range sizes {
				if k > window {
					t.Errorf("sends per call %v: a call carried more than the window (%d)", sizes, window)
				}
			}
		})
	}
}

// Many frames in one write, more than the event loop's inbox holds: every one is answered,
// in order.
func TestManyFramesInOneWrite(t *testing.T) {
	for _, via := range transports {
		t.Run(via, func(t *testing.T) {
			e := start(t, via, nil)
			c := e.dial(t)
			c.login(e, "m1001", "phone")
			const n = 3 * inboxFrames / 2 // under the frame burst
			var all []byte
			first := c.seq + 1
			for range n {
				c.seq++
				all = protocol.AppendMessage(all, protocol.OpHeartbeat, c.seq, nil, &frame.Heartbeat{ClientTimeMs: 1})
			}
			c.raw(all)
			for i := range uint32(n) {
				c.expect(protocol.OpHeartbeatAck, first+i, &frame.HeartbeatAck{})
			}
		})
	}
}

// SENDs carried by one SendBatch call run under the first one's trace: the others' spans
// name it (operations.md, bangbang.im.batch_trace_id), and every SEND keeps its own span,
// ended when it is answered.
func TestPipelinedSendSpansNameTheBatchTrace(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	e := start(t, viaEventLoop, func(c *Config) {
		c.TracerProvider = sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	})
	gate := make(chan struct{})
	e.logic.set(func(f *fakeLogic) { f.sendGate = gate })
	c := e.dial(t)
	c.login(e, "m1001", "phone")
	var seqs []uint32
	for i := range 3 {
		seqs = append(seqs, c.send(protocol.OpSend, &frame.SendRequest{ClientMsgId: fmt.Sprint("s", i), ToUser: "c1", Body: []byte("hi")}))
		if i == 0 {
			e.eventually(t, "the first send to reach logic", func() bool { n, _ := e.logic.calls(); return len(n) == 1 })
		}
	}
	// The first SEND waits in logic; the next two are read meanwhile and go together.
	e.eventually(t, "the sends to be read", func() bool { return e.g.Stats().FramesIn == 4 })
	close(gate)
	acks := map[string]string{} // client msg id → the trace its SEND_ACK names
	for _, seq := range seqs {
		var ack frame.SendAck
		c.expect(protocol.OpSendAck, seq, &ack)
		acks[ack.ClientMsgId] = ack.TraceId
	}
	if sizes, _ := e.logic.calls(); !slices.Equal(sizes, []int{1, 2}) {
		t.Fatalf("sends per call %v, want [1 2]", sizes)
	}
	batchTrace := map[string]string{} // span's own trace → the batch trace it names
	for _, sp := range rec.Ended() {
		if sp.Name() != "IM SEND" {
			continue
		}
		for _, kv := range sp.Attributes() {
			if kv.Key == "bangbang.im.batch_trace_id" {
				batchTrace[sp.SpanContext().TraceID().String()] = kv.Value.AsString()
			}
		}
	}
	if len(batchTrace) != 1 || batchTrace[acks["s2"]] != acks["s1"] {
		t.Fatalf("batch traces %v; want s2's span (trace %s) to name s1's trace %s", batchTrace, acks["s2"], acks["s1"])
	}
}

// The event loops read a socket whatever its connection's inbox holds, so a client that
// sends on while its window is full and its inbox too is closed as a flood (ERROR
// RATE_LIMITED [0]) once a megabyte waits unread, instead of growing the server's memory.
func TestEventLoopClosesAClientSendingOnUnread(t *testing.T) {
	e := start(t, viaEventLoop, func(c *Config) { c.SendWindow = 1 })
	gate := make(chan struct{})
	e.logic.set(func(f *fakeLogic) { f.sendGate = gate })
	t.Cleanup(func() { close(gate) }) // before the gateway's shutdown: cleanups run last first
	c := e.dial(t)
	c.login(e, "m1001", "phone")
	c.send(protocol.OpSend, &frame.SendRequest{ClientMsgId: "s0", ToUser: "c1", Body: []byte("hi")})
	e.eventually(t, "the first send to reach logic", func() bool { n, _ := e.logic.calls(); return len(n) == 1 })
	// The next SEND waits for the window; the heartbeats behind it fill the inbox.
	var small []byte
	for i := range inboxFrames + 10 {
		op, body := protocol.OpHeartbeat, protocol.Body(&frame.Heartbeat{ClientTimeMs: 1})
		if i == 0 {
			op, body = protocol.OpSend, &frame.SendRequest{ClientMsgId: "s1", ToUser: "c1", Body: []byte("hi")}
		}
		c.seq++
		small = protocol.AppendMessage(small, op, c.seq, nil, body)
	}
	c.raw(small)
	var bulk []byte
	for i := 0; len(bulk) <= inboxBytes+maxUnparsed+128<<10; i++ {
		c.seq++
		bulk = protocol.AppendMessage(bulk, protocol.OpSend, c.seq, nil,
			&frame.SendRequest{ClientMsgId: fmt.Sprint("big", i), ToUser: "c1", Body: make([]byte, 60<<10)})
	}
	go func() { _, _ = c.nc.Write(bulk) }() // the server may close before it all went
	for {
		f, err := c.next()
		if err != nil {
			t.Fatalf("connection ended without the flood's ERROR: %v", err)
		}
		if f.Op != protocol.OpError || f.Seq != 0 {
			continue
		}
		var fe frame.Error
		if err := protocol.DecodeBody(f.Body, &fe); err != nil || fe.Code != int32(common.ErrorCode_RATE_LIMITED) {
			t.Fatalf("ERROR [0] %+v %v, want RATE_LIMITED", &fe, err)
		}
		break
	}
	c.expectClosed()
	if got := e.g.Stats().Floods; got != 1 {
		t.Errorf("floods %d, want 1", got)
	}
}
