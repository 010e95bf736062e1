package logic_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bangbang-im/bangbang/core-im/client"
	"github.com/bangbang-im/bangbang/core-im/gateway"
	"github.com/bangbang-im/bangbang/core-im/protocol"
	"github.com/bangbang-im/bangbang/core-im/store"
	"github.com/bangbang-im/bangbang/gen/common"
	"github.com/bangbang-im/bangbang/gen/frame"
)

// TestMarksNeverPassWhatExists: a DELIVER_ACK or READ past what exists is refused with
// BAD_REQUEST and stored nowhere, so the next AUTH_OK never reports an acked_seq past
// max_seq (a DELIVER_ACK of 2^62 once was stored, and an SDK device then dropped every
// message).
func TestMarksNeverPassWhatExists(t *testing.T) {
	backends(t, func(t *testing.T, open func(t *testing.T) store.Store) {
		s := newIMStack(t, open(t), []string{"ann", "bob"}, nil)
		ann, _ := s.login(t, "ann")
		bob, _ := s.login(t, "bob")
		for i := range 2 {
			seq := ann.send(protocol.OpSend, &frame.SendRequest{ClientMsgId: fmt.Sprint("m", i), ToUser: "bob", Body: []byte("hi")})
			ann.expect(protocol.OpSendAck, seq, &frame.SendAck{})
		}
		for _, past := range []int64{1 << 62, 3} {
			seq := bob.send(protocol.OpDeliverAck, &frame.DeliverAck{Seq: past})
			bob.expectError(seq, common.ErrorCode_BAD_REQUEST)
		}
		// An ack of what exists has no answer: the heartbeat's answer comes next.
		bob.send(protocol.OpDeliverAck, &frame.DeliverAck{Seq: 2})
		hb := bob.send(protocol.OpHeartbeat, &frame.Heartbeat{})
		bob.expect(protocol.OpHeartbeatAck, hb, &frame.HeartbeatAck{})

		conv := "p:ann|bob"
		for _, past := range []int64{1 << 62, 3} {
			seq := bob.send(protocol.OpRead, &frame.ReadRequest{ConvId: conv, ConvSeq: past})
			bob.expectError(seq, common.ErrorCode_BAD_REQUEST)
		}
		var ra frame.ReadAck
		seq := bob.send(protocol.OpRead, &frame.ReadRequest{ConvId: conv, ConvSeq: 2})
		bob.expect(protocol.OpReadAck, seq, &ra)
		if ra.ConvSeq != 2 {
			t.Fatalf("READ_ACK %d, want 2", ra.ConvSeq)
		}

		// The device logs in again: its acked_seq is what it acked, within max_seq.
		_, again := s.login(t, "bob")
		if again.AckedSeq != 2 || again.MaxSeq != 2 {
			t.Fatalf("AUTH_OK acked_seq %d max_seq %d, want 2 and 2", again.AckedSeq, again.MaxSeq)
		}
		if n, _ := s.st.ReadSeq(t.Context(), "bob", conv); n != 2 {
			t.Fatalf("stored read mark %d, want 2", n)
		}
	})
}

// TestLargestSendIsPushedAndSynced: a SEND with the largest body the server accepts, every
// id at its largest, is acked, pushed to the online recipient and synced, each in a frame
// within the maximum; a body one byte larger, or one filling the SEND frame, is refused
// with BAD_REQUEST rather than stored and never pushed.
func TestLargestSendIsPushedAndSynced(t *testing.T) {
	backends(t, func(t *testing.T, open func(t *testing.T) store.Store) {
		// Ids whose conversation id, "p:<a>|<b>", is at the store's largest (127 bytes).
		from, to := strings.Repeat("a", 62), strings.Repeat("b", 62)
		s := newIMStack(t, open(t), []string{from, to}, nil)
		sender, _ := s.login(t, from)
		recipient, _ := s.login(t, to)

		body := bytes.Repeat([]byte{0xfe}, protocol.MaxMessageBody)
		req := &frame.SendRequest{ClientMsgId: strings.Repeat("c", 64), ToUser: to,
			ContentType: strings.Repeat("t", 128), Body: body}
		var ack frame.SendAck
		seq := sender.send(protocol.OpSend, req)
		sender.expect(protocol.OpSendAck, seq, &ack)

		f, err := recipient.next()
		if err != nil {
			t.Fatalf("waiting for the PUSH: %v", err)
		}
		var push frame.Push
		if f.Op != protocol.OpPush || protocol.DecodeBody(f.Body, &push) != nil || len(push.Messages) != 1 ||
			!bytes.Equal(push.Messages[0].Body, body) || push.Messages[0].MsgId != ack.MsgId {
			t.Fatalf("recipient got %s (%d bytes), want the PUSH of %s", f.Op, len(f.Body), ack.MsgId)
		}
		var page frame.SyncResponse
		seq = recipient.send(protocol.OpSync, &frame.SyncRequest{Limit: 500})
		recipient.expect(protocol.OpSyncResp, seq, &page)
		if len(page.Messages) != 1 || page.HasMore || !bytes.Equal(page.Messages[0].Body, body) {
			t.Fatalf("sync: %d messages, has_more %v", len(page.Messages), page.HasMore)
		}

		// One byte over the documented maximum; and the largest body a SEND frame holds.
		req.ClientMsgId, req.Body = "over-1", append(body, 0)
		seq = sender.send(protocol.OpSend, req)
		sender.expectError(seq, common.ErrorCode_BAD_REQUEST)
		req.ClientMsgId, req.Body = "over-2", nil
		req.Body = make([]byte, protocol.DefaultMaxBody-req.BLength()-4)
		if n := req.BLength(); n > protocol.DefaultMaxBody {
			t.Fatalf("the SEND body is %d bytes", n)
		}
		seq = sender.send(protocol.OpSend, req)
		sender.expectError(seq, common.ErrorCode_BAD_REQUEST)
		if n, _ := s.st.MaxSeq(t.Context(), to); n != 1 {
			t.Fatalf("the recipient's inbox holds %d messages, want 1", n)
		}
	})
}

// TestSyncPagesByBytes: an inbox of large messages syncs in pages that each fit a frame,
// each holding at least one message, ending with has_more false and every message once,
// in order.
func TestSyncPagesByBytes(t *testing.T) {
	backends(t, func(t *testing.T, open func(t *testing.T) store.Store) {
		s := newIMStack(t, open(t), []string{"bob"}, nil)
		rnd := rand.New(rand.NewPCG(9, 9))
		const n = 60
		bodies := make([][]byte, n)
		for i := range bodies {
			size := 1 + rnd.IntN(protocol.MaxMessageBody)
			if i%5 == 0 {
				size = protocol.MaxMessageBody
			}
			bodies[i] = bytes.Repeat([]byte{byte(i)}, size)
			if _, err := s.st.Append(t.Context(), store.NewMessage{ConvID: "s:bob", To: "bob", Recipients: []string{"bob"},
				Kind: store.KindSystem, ContentType: "application/octet-stream", Body: bodies[i], SentAt: time.Now()}); err != nil {
				t.Fatal(err)
			}
		}
		bob, auth := s.login(t, "bob")
		if auth.MaxSeq != n {
			t.Fatalf("max_seq %d", auth.MaxSeq)
		}
		var after int64
		pages, cut := 0, false
		for {
			var page frame.SyncResponse
			seq := bob.send(protocol.OpSync, &frame.SyncRequest{AfterSeq: after, Limit: 500})
			bob.expect(protocol.OpSyncResp, seq, &page) // the reader refuses a frame over the maximum
			pages++
			if len(page.Messages) == 0 && page.HasMore {
				t.Fatalf("page %d: empty with has_more", pages)
			}
			for _, m := range page.Messages {
				if m.Seq != after+1 || !bytes.Equal(m.Body, bodies[m.Seq-1]) {
					t.Fatalf("page %d: seq %d after %d", pages, m.Seq, after)
				}
				after = m.Seq
			}
			cut = cut || (page.HasMore && len(page.Messages) < 500)
			if !page.HasMore {
				break
			}
		}
		if after != n || !cut {
			t.Fatalf("synced up to %d of %d in %d pages (cut by bytes: %v)", after, n, pages, cut)
		}
	})
}

// TestFloodIsClosedAsFlood: 2000 SENDs in one write are a flood, not a slow consumer: the
// connection ends with ERROR RATE_LIMITED seq 0, counted in floods_total, while
// slow_consumers_total stays where it was.
func TestFloodIsClosedAsFlood(t *testing.T) {
	s := newIMStack(t, openSQLite(t), []string{"ann", "bob"}, nil)
	c, _ := s.login(t, "ann")
	var batch []byte
	for i := range 2000 {
		b, _ := c.frame(protocol.OpSend, &frame.SendRequest{ClientMsgId: fmt.Sprint("f", i), ToUser: "bob", Body: []byte("spam")})
		batch = append(batch, b...)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		_, _ = c.nc.Write(batch) // the server may close before it has read everything
	}()
	defer wg.Wait()
	var last protocol.Frame
	acks, refused := 0, 0
	for {
		f, err := c.next()
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || isReset(err) {
			break
		}
		if err != nil {
			t.Fatalf("after %d acks and %d refusals: %v", acks, refused, err)
		}
		switch f.Op {
		case protocol.OpSendAck:
			acks++
		case protocol.OpError:
			refused++
		case protocol.OpKick:
			var k frame.Kick
			_ = protocol.DecodeBody(f.Body, &k)
			t.Fatalf("KICK %s, want the flood's ERROR", frame.KickReason(k.Reason))
		}
		last = f
	}
	var e frame.Error
	if last.Op != protocol.OpError || last.Seq != 0 || protocol.DecodeBody(last.Body, &e) != nil ||
		common.ErrorCode(e.Code) != common.ErrorCode_RATE_LIMITED {
		t.Fatalf("the last frame is %s [%d] %+v, want ERROR RATE_LIMITED [0]", last.Op, last.Seq, &e)
	}
	if got := s.metric(t, "bangbang_gateway_floods_total"); got != 1 {
		t.Errorf("floods_total = %v, want 1", got)
	}
	if got := s.metric(t, "bangbang_gateway_slow_consumers_total"); got != 0 {
		t.Errorf("slow_consumers_total = %v, want 0", got)
	}
	t.Logf("%d SEND_ACKs, %d refusals before the close", acks, refused-1)
}

// TestClientHonouringRetryAfterIsNeverClosed: a client that, after each RATE_LIMITED,
// waits exactly retry_after_ms and resends, is never closed and gets every SEND acked.
func TestClientHonouringRetryAfterIsNeverClosed(t *testing.T) {
	fast := func(c *gateway.Config) { c.FrameRate, c.FrameBurst = 100, 10 }
	t.Run("one at a time", func(t *testing.T) {
		// A rate slow enough that a client waiting for each ack still outruns it, however
		// slow the commits (the race detector, a loaded machine): 20/s, 2 at once.
		s := newIMStack(t, openSQLite(t), []string{"ann", "bob"}, func(c *gateway.Config) { c.FrameRate, c.FrameBurst = 20, 2 })
		c, _ := s.login(t, "ann")
		const n = 40
		refusals := 0
		for i := 0; i < n; {
			seq := c.send(protocol.OpSend, &frame.SendRequest{ClientMsgId: fmt.Sprint("h", i), ToUser: "bob", Body: []byte("hi")})
			f, err := c.next()
			if err != nil {
				t.Fatalf("send %d: %v (after %d refusals)", i, err, refusals)
			}
			switch {
			case f.Op == protocol.OpSendAck && f.Seq == seq:
				i++
			case f.Op == protocol.OpError && f.Seq == seq:
				var e frame.Error
				_ = protocol.DecodeBody(f.Body, &e)
				if common.ErrorCode(e.Code) != common.ErrorCode_RATE_LIMITED || !e.Temporary || e.RetryAfterMs <= 0 {
					t.Fatalf("send %d: ERROR %+v", i, &e)
				}
				refusals++
				time.Sleep(time.Duration(e.RetryAfterMs) * time.Millisecond) // the wait the server asked for
			default:
				t.Fatalf("send %d: got %s [%d]", i, f.Op, f.Seq)
			}
		}
		if refusals == 0 {
			t.Fatal("never rate limited: the test proves nothing")
		}
		if st := s.gw.Stats(); st.Floods != 0 || st.Dropped != 0 {
			t.Fatalf("floods %d, slow consumers %d", st.Floods, st.Dropped)
		}
		t.Logf("%d sends, %d refusals", n, refusals)
	})
	t.Run("SDK with sends in flight", func(t *testing.T) {
		s := newIMStack(t, openSQLite(t), []string{"ann", "bob"}, fast)
		tok, _, err := s.tokens.Issue("ann", "customer")
		if err != nil {
			t.Fatal(err)
		}
		cl, err := client.Dial(t.Context(), client.Config{Addr: s.addr, DeviceID: "ann-sdk",
			Token: func(context.Context) (string, error) { return tok, nil }})
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		const senders, each = 8, 20
		var wg sync.WaitGroup
		errs := make(chan error, senders*each)
		for range senders {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range each {
					ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
					_, err := cl.Send(ctx, "bob", "text/plain", []byte("hi"))
					cancel()
					if err != nil {
						errs <- err
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("send: %v", err)
		}
		st := s.gw.Stats()
		if st.RateLimited == 0 {
			t.Fatal("never rate limited: the test proves nothing")
		}
		if st.Floods != 0 || st.Dropped != 0 {
			t.Fatalf("floods %d, slow consumers %d", st.Floods, st.Dropped)
		}
		if n, _ := s.st.MaxSeq(t.Context(), "bob"); n != senders*each {
			t.Fatalf("bob holds %d messages, want %d", n, senders*each)
		}
		for {
			select {
			case ev := <-cl.Events():
				if ev.Kind != client.EventConnected {
					t.Fatalf("connection event %v: the client was closed", ev.Kind)
				}
				continue
			default:
			}
			break
		}
	})
}
