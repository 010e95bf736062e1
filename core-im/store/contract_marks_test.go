package store

import (
	"errors"
	"sync"
	"testing"
)

// pastEnd reports whether err is the refusal of a mark past what exists.
func pastEnd(err error) bool {
	var ie *InvalidError
	return errors.As(err, &ie) && ie.Field == "seq"
}

func testAcksBounded(t *testing.T, b backend) {
	s := b.open(t, Options{})
	ctx := t.Context()
	// An empty inbox takes an ack of 0 only.
	if got, err := s.AckDelivered(ctx, "m1", "phone", 0); err != nil || got != 0 {
		t.Fatalf("ack 0 of an empty inbox = %d, %v; want 0", got, err)
	}
	if _, err := s.AckDelivered(ctx, "m1", "phone", 1); !pastEnd(err) {
		t.Fatalf("ack 1 of an empty inbox: %v, want an InvalidError on seq", err)
	}
	appendN(t, s, 3, system("m1"))
	for _, seq := range []int64{4, 1 << 62} {
		if got, err := s.AckDelivered(ctx, "m1", "phone", seq); !pastEnd(err) || !errors.Is(err, ErrInvalid) {
			t.Errorf("ack %d of an inbox at 3 = %d, %v; want an InvalidError on seq", seq, got, err)
		}
	}
	if got, err := s.DeliveredSeq(ctx, "m1", "phone"); err != nil || got != 0 {
		t.Errorf("after refused acks delivered seq = %d, %v; want 0 (nothing stored)", got, err)
	}
	if got, err := s.AckDelivered(ctx, "m1", "phone", 3); err != nil || got != 3 {
		t.Fatalf("ack 3 of an inbox at 3 = %d, %v", got, err)
	}
	if _, err := s.AckDelivered(ctx, "m1", "phone", 1<<62); !pastEnd(err) {
		t.Errorf("ack 2^62 after a valid ack: %v, want refused", err)
	}
	if got, _ := s.DeliveredSeq(ctx, "m1", "phone"); got != 3 {
		t.Errorf("delivered seq = %d, want 3", got)
	}
	// Another user's inbox is no bound for this one.
	appendN(t, s, 5, system("m2"))
	if _, err := s.AckDelivered(ctx, "m1", "tablet", 5); !pastEnd(err) {
		t.Errorf("ack 5 of m1 (at 3) while m2 is at 5: %v, want refused", err)
	}
}

func testReadMarksBounded(t *testing.T, b backend) {
	s := b.open(t, Options{})
	ctx := t.Context()
	conv := convOf("m1", "c1")
	if _, err := s.MarkRead(ctx, "m1", conv, 1); !pastEnd(err) {
		t.Fatalf("mark 1 of an empty conversation: %v, want an InvalidError on seq", err)
	}
	appendN(t, s, 2, chat("m1", "c1", ""))
	// The user's inbox is longer than the conversation: the conversation is the bound.
	appendN(t, s, 5, system("m1"))
	for _, seq := range []int64{3, 7, 1 << 62} {
		if _, err := s.MarkRead(ctx, "m1", conv, seq); !pastEnd(err) {
			t.Errorf("mark %d of a conversation at 2: %v, want refused", seq, err)
		}
	}
	if got, _ := s.ReadSeq(ctx, "m1", conv); got != 0 {
		t.Errorf("after refused marks read seq = %d, want 0", got)
	}
	if got, err := s.MarkRead(ctx, "c1", conv, 2); err != nil || got != 2 {
		t.Errorf("mark 2 of a conversation at 2 = %d, %v", got, err)
	}
	if got, err := s.MarkRead(ctx, "m1", "s:m1", 5); err != nil || got != 5 {
		t.Errorf("mark 5 of s:m1 at 5 = %d, %v", got, err)
	}
}

// testMarksBoundedConcurrent acks and marks one past the newest seq while appends run:
// whatever interleaving, a mark the store accepted is never past what exists right after.
func testMarksBoundedConcurrent(t *testing.T, b backend) {
	s := b.open(t, Options{})
	ctx := t.Context()
	const n = 60
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range n {
			if _, err := s.Append(ctx, chat("m1", "c1", "")); err != nil {
				t.Errorf("append: %v", err)
				return
			}
		}
	}()
	conv := convOf("m1", "c1")
	accepted := 0
	for range 4 * n {
		newest, err := s.MaxSeq(ctx, "m1")
		if err != nil {
			t.Fatal(err)
		}
		if got, err := s.AckDelivered(ctx, "m1", "phone", newest+1); err == nil {
			accepted++
			if after, _ := s.MaxSeq(ctx, "m1"); got > after {
				t.Fatalf("ack %d accepted while the inbox ends at %d", got, after)
			}
		} else if !pastEnd(err) {
			t.Fatal(err)
		}
		if got, err := s.MarkRead(ctx, "m1", conv, newest+1); err == nil {
			var last int64
			for _, m := range syncAll(t, s, "c1") {
				last = max(last, m.Message.ConvSeq)
			}
			if got > last {
				t.Fatalf("read mark %d accepted while the conversation ends at %d", got, last)
			}
		} else if !pastEnd(err) {
			t.Fatal(err)
		}
	}
	wg.Wait()
	if got, _ := s.DeliveredSeq(ctx, "m1", "phone"); got > n {
		t.Errorf("delivered seq %d past the %d messages", got, n)
	}
	t.Logf("%d of %d acks one past the end landed after a concurrent append", accepted, 4*n)
}

// testMarksPlantedPastEnd: marks an older version stored past the end (a DELIVER_ACK of
// 2^62) read as the newest seq, and the next mark repairs them.
func testMarksPlantedPastEnd(t *testing.T, b backend) {
	s := b.open(t, Options{})
	ctx := t.Context()
	conv := convOf("m1", "c1")
	appendN(t, s, 4, chat("m1", "c1", ""))
	b.plantMarks(t, s, "m1", conv, 1<<62)
	if got, err := s.DeliveredSeq(ctx, "m1", "phone"); err != nil || got != 4 {
		t.Errorf("delivered seq over a planted 2^62 = %d, %v; want 4", got, err)
	}
	if got, err := s.ReadSeq(ctx, "m1", conv); err != nil || got != 4 {
		t.Errorf("read seq over a planted 2^62 = %d, %v; want 4", got, err)
	}
	want := []Receipt{{"m1", conv, 4, 4}}
	if got, err := s.Receipts(ctx, []ReceiptQuery{{"m1", conv}}); err != nil || len(got) != 1 || got[0] != want[0] {
		t.Errorf("receipts over planted marks = %v, %v; want %v", got, err, want)
	}
	if got, err := s.AckDelivered(ctx, "m1", "phone", 2); err != nil || got != 4 {
		t.Errorf("ack 2 over a planted 2^62 = %d, %v; want 4", got, err)
	}
	if got, err := s.MarkRead(ctx, "m1", conv, 1); err != nil || got != 4 {
		t.Errorf("mark 1 over a planted 2^62 = %d, %v; want 4", got, err)
	}
	appendN(t, s, 1, chat("m1", "c1", ""))
	// Repaired: the stored mark is 4 now, not 2^62, so the new message is not acked.
	if got, _ := s.DeliveredSeq(ctx, "m1", "phone"); got != 4 {
		t.Errorf("delivered seq after a new message = %d, want 4", got)
	}
}
