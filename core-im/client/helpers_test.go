package client

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/bangbang-im/bangbang/core-im/protocol"
	"github.com/bangbang-im/bangbang/gen/common"
	"github.com/bangbang-im/bangbang/gen/frame"
)

func msg(seq int64) *common.Message {
	return &common.Message{
		MsgId: fmt.Sprintf("m%d", seq), ConvId: "p:u0|u1", ConvSeq: seq, Seq: seq,
		FromUser: "u0", ToUser: "u1", Kind: int32(common.MessageKind_CHAT),
		ContentType: "text/plain", Body: fmt.Appendf(nil, "hello %d", seq),
		ClientMsgId: fmt.Sprintf("c%d", seq), SentAtMs: 1_700_000_000_000 + seq,
	}
}

func msgs(from, to int64) []*common.Message {
	var out []*common.Message
	for seq := from; seq <= to; seq++ {
		out = append(out, msg(seq))
	}
	return out
}

// testConfig points a client at s with fast reconnects.
func testConfig(t *testing.T, s *testServer) Config {
	return Config{
		Addr:           s.addr(),
		Token:          func(context.Context) (string, error) { return "tok", nil },
		DeviceID:       "d1",
		ReconnectMin:   2 * time.Millisecond,
		ReconnectMax:   20 * time.Millisecond,
		RequestTimeout: waitTimeout,
		Logger:         slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
}

// dial connects a client that is closed when the test ends.
func dial(t *testing.T, cfg Config) *Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), waitTimeout)
	defer cancel()
	c, err := Dial(ctx, cfg)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// receive reads n messages from the client.
func receive(t *testing.T, c *Client, n int) []Message {
	t.Helper()
	var out []Message
	deadline := time.NewTimer(waitTimeout)
	defer deadline.Stop()
	for len(out) < n {
		select {
		case m, ok := <-c.Messages():
			if !ok {
				t.Fatalf("messages closed after %d of %d", len(out), n)
			}
			out = append(out, m)
		case <-deadline.C:
			t.Fatalf("timed out after %d of %d messages", len(out), n)
		}
	}
	return out
}

// wantSeqs fails unless got holds exactly the seqs from..to in order, with their bodies.
func wantSeqs(t *testing.T, got []Message, from, to int64) {
	t.Helper()
	if int64(len(got)) != to-from+1 {
		t.Fatalf("got %d messages, want seqs %d..%d: %v", len(got), from, to, seqsOf(got))
	}
	for i, m := range got {
		want := msg(from + int64(i))
		if m.Seq != want.Seq || m.ID != want.MsgId || string(m.Body) != string(want.Body) {
			t.Fatalf("message %d: got seq %d id %s, want seqs %d..%d: %v", i, m.Seq, m.ID, from, to, seqsOf(got))
		}
	}
}

func seqsOf(ms []Message) []int64 {
	var out []int64
	for _, m := range ms {
		out = append(out, m.Seq)
	}
	return out
}

// waitEvent reads events until one of kind arrives.
func waitEvent(t *testing.T, c *Client, kind EventKind) Event {
	t.Helper()
	deadline := time.NewTimer(waitTimeout)
	defer deadline.Stop()
	for {
		select {
		case ev, ok := <-c.Events():
			if !ok {
				t.Fatalf("events closed while waiting for %s", kind)
			}
			if ev.Kind == kind {
				return ev
			}
		case <-deadline.C:
			t.Fatalf("timed out waiting for event %s", kind)
		}
	}
}

// noMore pushes a sentinel with the next seq and fails unless it is the next message the
// app gets: the client delivers in order, so any duplicate would have come first.
func noMore(t *testing.T, c *Client, sc *serverConn, next int64) {
	t.Helper()
	sc.s.store(msg(next))
	sc.push(msg(next))
	got := receive(t, c, 1)
	if got[0].Seq != next {
		t.Fatalf("got seq %d before the sentinel %d", got[0].Seq, next)
	}
}

// synced returns once the server has answered the client's first SYNC on sc: messages
// stored from then on reach the client only by push or by a later sync.
func synced(t *testing.T, c *Client, sc *serverConn) {
	t.Helper()
	sc.s.waitFor("the first sync", func() bool {
		for _, call := range sc.s.syncs {
			if call.conn == sc.n {
				return true
			}
		}
		return false
	})
	// The server answers frames in order, so the SYNC is answered before this READ.
	roundTrip(t, c, sc)
}

// roundTrip runs one MarkRead through sc: the client processes frames in order, so every
// frame sent before it has been read once it returns.
func roundTrip(t *testing.T, c *Client, sc *serverConn) {
	t.Helper()
	errc := make(chan error, 1)
	go func() {
		_, err := c.MarkRead(t.Context(), "p:u0|u1", 1)
		errc <- err
	}()
	var req frame.ReadRequest
	f := sc.expect(protocol.OpRead, &req)
	if err := sc.write(protocol.OpReadAck, f.Seq, &frame.ReadAck{ConvId: req.ConvId, ConvSeq: req.ConvSeq}); err != nil {
		t.Fatalf("write READ_ACK: %v", err)
	}
	if err := <-errc; err != nil {
		t.Fatalf("mark read: %v", err)
	}
}
