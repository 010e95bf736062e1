package store

import (
	"context"
	"errors"
	"testing"
)

func testContextCancelled(t *testing.T, b backend) {
	s := b.open(t, Options{})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := s.Append(ctx, chat("m1", "c1", "k")); !errors.Is(err, context.Canceled) {
		t.Fatalf("append with a cancelled ctx: %v, want context.Canceled", err)
	}
	if _, _, err := s.Sync(ctx, "m1", 0, 10); !errors.Is(err, context.Canceled) {
		t.Errorf("sync with a cancelled ctx: %v, want context.Canceled", err)
	}
	if n, _ := s.MaxSeq(t.Context(), "m1"); n != 0 {
		t.Errorf("cancelled append was stored: max seq %d", n)
	}
}

// A caller whose ctx ends while its request is queued returns at once, and
// the request is never written.
func testContextCancelledWhileQueued(t *testing.T, b backend) {
	s := b.open(t, Options{})
	release := b.holdWrites(t, s)
	blocker := appendAsync(t, s, chat("m9", "c9", ""))
	waitFor(t, "the blocker to be written", func() bool { p, f := queueStats(t, s); return p == 0 && f == 1 })

	ctx, cancel := context.WithCancel(t.Context())
	gone := make(chan error, 1)
	go func() {
		_, err := s.Append(ctx, chat("m1", "c1", "gone"))
		gone <- err
	}()
	waitFor(t, "the append to queue", func() bool { p, _ := queueStats(t, s); return p == 1 })
	cancel()
	if err := <-gone; !errors.Is(err, context.Canceled) {
		t.Fatalf("append cancelled while queued: %v, want context.Canceled", err)
	}
	release()
	if out := <-blocker; out.err != nil {
		t.Fatal(out.err)
	}
	// Appended after the cancelled one, so written in the same batch or a later one.
	if _, err := s.Append(t.Context(), chat("m2", "c2", "")); err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"m1", "c1"} {
		if n, _ := s.MaxSeq(t.Context(), u); n != 0 {
			t.Errorf("cancelled append was stored: %s max seq %d", u, n)
		}
	}
}

// Close fails queued appends with ErrClosed, lets the batch being written
// commit, and every later call fails with ErrClosed.
func testClose(t *testing.T, b backend) {
	s := b.open(t, Options{})
	release := b.holdWrites(t, s)
	blocker := appendAsync(t, s, chat("m9", "c9", ""))
	waitFor(t, "the blocker to be written", func() bool { p, f := queueStats(t, s); return p == 0 && f == 1 })
	var queued []<-chan appendOutcome
	for range 3 {
		queued = append(queued, appendAsync(t, s, chat("m1", "c1", "")))
	}
	waitFor(t, "appends to queue", func() bool { p, _ := queueStats(t, s); return p == 3 })

	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	for i, c := range queued {
		if out := <-c; !errors.Is(out.err, ErrClosed) {
			t.Errorf("queued append %d: %v, want ErrClosed", i, out.err)
		}
	}
	release()
	if err := <-closed; err != nil {
		t.Fatalf("close: %v", err)
	}
	if out := <-blocker; out.err != nil || out.a.Message.ConvSeq != 1 {
		t.Errorf("append written during close = seq %d, %v; want committed", out.a.Message.ConvSeq, out.err)
	}

	ctx := t.Context()
	_, err := s.Append(ctx, chat("m1", "c1", ""))
	checkClosed(t, "append", err)
	_, _, err = s.Sync(ctx, "m1", 0, 10)
	checkClosed(t, "sync", err)
	_, err = s.MaxSeq(ctx, "m1")
	checkClosed(t, "max seq", err)
	_, err = s.AckDelivered(ctx, "m1", "d", 1)
	checkClosed(t, "ack", err)
	_, err = s.DeliveredSeq(ctx, "m1", "d")
	checkClosed(t, "delivered seq", err)
	_, err = s.MarkRead(ctx, "m1", "p:x", 1)
	checkClosed(t, "mark read", err)
	_, err = s.ReadSeq(ctx, "m1", "p:x")
	checkClosed(t, "read seq", err)
	_, err = s.Receipts(ctx, []ReceiptQuery{{"m1", "p:x"}})
	checkClosed(t, "receipts", err)
	checkClosed(t, "put user", s.PutUser(ctx, User{ID: "u", Kind: UserCustomer}))
	_, err = s.PutUserIfAbsent(ctx, User{ID: "u", Kind: UserCustomer})
	checkClosed(t, "put user if absent", err)
	_, err = s.PutUsersIfAbsent(ctx, []User{{ID: "u", Kind: UserCustomer}})
	checkClosed(t, "put users if absent", err)
	_, err = s.GetUser(ctx, "u")
	checkClosed(t, "get user", err)
	_, err = s.MissingUsers(ctx, []string{"u"})
	checkClosed(t, "missing users", err)
	if err := s.Close(); err != nil {
		t.Errorf("second close: %v", err)
	}
}

func checkClosed(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, ErrClosed) {
		t.Errorf("%s after close: %v, want ErrClosed", what, err)
	}
}
