package store

import (
	"errors"
	"fmt"
	"testing"
)

// One AppendBatch call: its messages numbered in the order given, a resend answered as the
// stored message, an invalid message failing alone, results at their indexes.
func testAppendBatch(t *testing.T, b backend) {
	s := b.open(t, Options{})
	ctx := t.Context()
	stored, err := s.Append(ctx, chat("m1", "c1", "k0"))
	if err != nil {
		t.Fatal(err)
	}
	bad := chat("m1", "c1", "k-bad")
	bad.ConvID = ""
	ms := []NewMessage{
		chat("m1", "c1", "k1"),
		chat("m1", "c1", "k2"),
		bad,
		chat("m1", "c1", "k0"), // sent before
		chat("m1", "c2", "k3"),
		chat("m1", "c1", "k4"),
	}
	rs := s.AppendBatch(ctx, ms)
	if len(rs) != len(ms) {
		t.Fatalf("%d results for %d messages", len(rs), len(ms))
	}
	var ie *InvalidError
	if !errors.As(rs[2].Err, &ie) || ie.Field != "ConvID" {
		t.Errorf("invalid message: %v, want an InvalidError on ConvID", rs[2].Err)
	}
	if rs[3].Err != nil || !rs[3].Duplicate || rs[3].Message.ID != stored.Message.ID {
		t.Errorf("resend in a batch = %+v, %v; want the stored message as a duplicate", rs[3].Appended, rs[3].Err)
	}
	for i, want := range map[int]int64{0: 2, 1: 3, 4: 1, 5: 4} {
		r := rs[i]
		if r.Err != nil || r.Duplicate || r.Message.ConvSeq != want || r.Message.ClientMsgID != ms[i].ClientMsgID {
			t.Errorf("message %d = %+v, %v; want conv seq %d", i, r.Appended, r.Err, want)
		}
	}
	checkInvariants(t, s, []string{"m1", "c1", "c2"})
	if n, _ := s.MaxSeq(ctx, "m1"); n != 5 {
		t.Errorf("m1's inbox at %d, want 5 (one per stored message)", n)
	}
	if rs := s.AppendBatch(ctx, make([]NewMessage, MaxBatch+1)); !errors.Is(rs[0].Err, ErrInvalid) {
		t.Errorf("a batch over MaxBatch: %v, want ErrInvalid", rs[0].Err)
	}
}

// Calls of several connections, each an ordered AppendBatch, interleave in the store but
// each keeps its order.
func testAppendBatchesKeepTheirOrder(t *testing.T, b backend) {
	s := b.open(t, Options{})
	const senders, calls, per = 8, 10, 5
	errs := make(chan error, senders)
	for w := range senders {
		go func() {
			from := fmt.Sprintf("m%d", w)
			for c := range calls {
				ms := make([]NewMessage, per)
				for i := range ms {
					ms[i] = chat(from, "c1", fmt.Sprintf("%d-%d", c, i))
				}
				for _, r := range s.AppendBatch(t.Context(), ms) {
					if r.Err != nil {
						errs <- r.Err
						return
					}
				}
			}
			errs <- nil
		}()
	}
	for range senders {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	// c1's inbox holds every sender's messages in the order each sent them.
	users := []string{"c1"}
	next := make(map[string]int)
	for _, m := range syncAll(t, s, "c1") {
		want := fmt.Sprintf("%d-%d", next[m.Message.From]/per, next[m.Message.From]%per)
		if m.Message.ClientMsgID != want {
			t.Fatalf("%s's message %s came where %s was due", m.Message.From, m.Message.ClientMsgID, want)
		}
		next[m.Message.From]++
	}
	for w := range senders {
		users = append(users, fmt.Sprintf("m%d", w))
		if got := next[fmt.Sprintf("m%d", w)]; got != calls*per {
			t.Errorf("m%d: %d messages in c1's inbox, want %d", w, got, calls*per)
		}
	}
	checkInvariants(t, s, users)
}

// Acks and read marks queued beside appends are written in the same transaction, each
// answered alone: a refused mark fails only itself.
func testMarksShareTheBatch(t *testing.T, b backend) {
	s := b.open(t, Options{})
	ctx := t.Context()
	// Nothing is written before the hold: every message and mark of the test goes in the
	// one batch behind the blocker.
	release := b.holdWrites(t, s)
	blocker := appendAsync(t, s, chat("m9", "c9", ""))
	waitFor(t, "the blocker to be written", func() bool { p, f := queueStats(t, s); return p == 0 && f == 1 })

	type markOutcome struct {
		seq int64
		err error
	}
	mark := func(f func() (int64, error)) <-chan markOutcome {
		out := make(chan markOutcome, 1)
		go func() { seq, err := f(); out <- markOutcome{seq, err} }()
		return out
	}
	queued := 0
	next := func(what string) {
		queued++
		waitFor(t, what+" to queue", func() bool { p, _ := queueStats(t, s); return p == queued })
	}
	var appends []<-chan appendOutcome
	for _, m := range []NewMessage{chat("m1", "c1", ""), chat("m1", "c1", ""), chat("c1", "m1", "")} {
		appends = append(appends, appendAsync(t, s, m))
		next("an append")
	}
	ack := mark(func() (int64, error) { return s.AckDelivered(ctx, "c1", "phone", 3) })
	next("the ack")
	tooFar := mark(func() (int64, error) { return s.AckDelivered(ctx, "c1", "tablet", 4) })
	next("the ack past the end")
	read := mark(func() (int64, error) { return s.MarkRead(ctx, "c1", convOf("m1", "c1"), 3) })
	next("the read mark")
	lower := mark(func() (int64, error) { return s.AckDelivered(ctx, "c1", "phone", 1) })
	next("the lower ack")
	release()

	for _, c := range append(appends, blocker) {
		if out := <-c; out.err != nil {
			t.Fatal(out.err)
		}
	}
	if out := <-ack; out.err != nil || out.seq != 3 {
		t.Errorf("ack of what the batch appended = %d, %v; want 3", out.seq, out.err)
	}
	if out := <-tooFar; !pastEnd(out.err) {
		t.Errorf("ack past the end = %d, %v; want refused", out.seq, out.err)
	}
	if out := <-read; out.err != nil || out.seq != 3 {
		t.Errorf("read mark = %d, %v; want 3", out.seq, out.err)
	}
	if out := <-lower; out.err != nil || out.seq != 3 {
		t.Errorf("lower ack after a higher one in the same batch = %d, %v; want 3 (the highest)", out.seq, out.err)
	}
	if got, _ := s.DeliveredSeq(ctx, "c1", "tablet"); got != 0 {
		t.Errorf("the refused ack stored %d", got)
	}
}
