package store

import (
	"fmt"
	"slices"
	"sync"
	"testing"
)

// 8 goroutines × 200 appends over a few conversations: every conversation
// and every inbox is numbered 1..n, and each Append's answer matches what
// Sync reads back.
func testSeqsUnderConcurrency(t *testing.T, b backend) {
	s := b.open(t, Options{})
	users := []string{"m1", "m2", "c1", "c2", "c3"}
	const workers, perWorker = 8, 200
	results := make([][]Appended, workers)
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			for i := range perWorker {
				from := users[(w+i)%len(users)]
				to := users[(w+2*i+1)%len(users)]
				m := chat(from, to, fmt.Sprintf("w%d-%d", w, i))
				if from == to || i%7 == 0 {
					m = system(to)
				}
				a, err := s.Append(t.Context(), m)
				if err != nil {
					errs <- fmt.Errorf("worker %d append %d: %w", w, i, err)
					return
				}
				if a.Duplicate {
					errs <- fmt.Errorf("worker %d append %d: reported duplicate", w, i)
					return
				}
				results[w] = append(results[w], a)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	stored := checkInvariants(t, s, users)
	if len(stored) != workers*perWorker {
		t.Fatalf("%d distinct messages stored, want %d", len(stored), workers*perWorker)
	}
	// Each answer matches what was stored: same conv seq and inbox positions.
	inboxAt := make(map[InboxEntry]string)
	for _, u := range users {
		for _, im := range syncAll(t, s, u) {
			inboxAt[InboxEntry{u, im.Seq}] = im.Message.ID
		}
	}
	for w := range results {
		for _, a := range results[w] {
			if got := stored[a.Message.ID]; got.ConvSeq != a.Message.ConvSeq || got.ConvID != a.Message.ConvID {
				t.Fatalf("append answered %s/%d, stored %s/%d", a.Message.ConvID, a.Message.ConvSeq, got.ConvID, got.ConvSeq)
			}
			for _, e := range a.Inbox {
				if inboxAt[e] != a.Message.ID {
					t.Fatalf("append answered inbox %v for %s, stored there: %s", e, a.Message.ID, inboxAt[e])
				}
			}
		}
	}
}

func testDedupSequential(t *testing.T, b backend) {
	s := b.open(t, Options{})
	ctx := t.Context()
	first, err := s.Append(ctx, chat("m1", "c1", "retry-me"))
	if err != nil {
		t.Fatal(err)
	}
	retry := chat("m1", "c1", "retry-me")
	retry.Body = []byte("a different body is ignored")
	again, err := s.Append(ctx, retry)
	if err != nil {
		t.Fatal(err)
	}
	if !again.Duplicate || first.Duplicate {
		t.Fatalf("duplicate flags: first %v, retry %v", first.Duplicate, again.Duplicate)
	}
	assertMessage(t, "retry", again.Message, first.Message)
	if !slices.Equal(again.Inbox, first.Inbox) {
		t.Errorf("retry inbox %v, want %v", again.Inbox, first.Inbox)
	}
	// Nothing was written for the retry.
	for _, u := range []string{"m1", "c1"} {
		if n, _ := s.MaxSeq(ctx, u); n != 1 {
			t.Errorf("after a retry %s has max seq %d, want 1", u, n)
		}
	}
	// The key is per sender; no key means no dedup.
	other, err := s.Append(ctx, chat("c1", "m1", "retry-me"))
	if err != nil || other.Duplicate || other.Message.ConvSeq != 2 {
		t.Errorf("same client id from another sender = seq %d duplicate %v err %v, want a new message", other.Message.ConvSeq, other.Duplicate, err)
	}
	for i := range 2 {
		a, err := s.Append(ctx, chat("m1", "c1", ""))
		if err != nil || a.Duplicate || a.Message.ConvSeq != int64(3+i) {
			t.Errorf("append without client id = seq %d duplicate %v err %v", a.Message.ConvSeq, a.Duplicate, err)
		}
	}
	checkInvariants(t, s, []string{"m1", "c1"})
}

// Many callers retrying the same client message at once get one message.
func testDedupConcurrent(t *testing.T, b backend) {
	s := b.open(t, Options{})
	for round := range 10 {
		cid := fmt.Sprintf("k%d", round)
		res := make([]Appended, 12)
		errs := make([]error, len(res))
		var wg sync.WaitGroup
		for i := range res {
			wg.Go(func() { res[i], errs[i] = s.Append(t.Context(), chat("m1", "c1", cid)) })
		}
		wg.Wait()
		fresh := 0
		for i := range res {
			if errs[i] != nil {
				t.Fatalf("round %d append %d: %v", round, i, errs[i])
			}
			if res[i].Message.ID != res[0].Message.ID || !slices.Equal(res[i].Inbox, res[0].Inbox) {
				t.Fatalf("round %d: answers %+v and %+v differ", round, res[0], res[i])
			}
			if !res[i].Duplicate {
				fresh++
			}
		}
		if fresh != 1 {
			t.Fatalf("round %d: %d answers say new, want 1", round, fresh)
		}
	}
	if got := len(checkInvariants(t, s, []string{"m1", "c1"})); got != 10 {
		t.Fatalf("%d messages stored, want 10", got)
	}
}

// Requests queued behind a busy committer go out in one batch; those with the
// same key in that batch produce one message.
func testDedupWithinOneBatch(t *testing.T, b backend) {
	s := b.open(t, Options{})
	release := b.holdWrites(t, s)
	blocker := appendAsync(t, s, chat("m9", "c9", ""))
	waitFor(t, "the blocker to be written", func() bool { p, f := queueStats(t, s); return p == 0 && f == 1 })

	const n = 6
	var calls []<-chan appendOutcome
	for range n {
		calls = append(calls, appendAsync(t, s, chat("m1", "c1", "same")))
	}
	waitFor(t, "all to queue", func() bool { p, _ := queueStats(t, s); return p == n })
	release()

	if out := <-blocker; out.err != nil {
		t.Fatal(out.err)
	}
	var first Appended
	fresh := 0
	for i, c := range calls {
		out := <-c
		if out.err != nil {
			t.Fatal(out.err)
		}
		if i == 0 {
			first = out.a
		}
		if out.a.Message.ID != first.Message.ID {
			t.Fatalf("ids %s and %s for one client message", first.Message.ID, out.a.Message.ID)
		}
		if !out.a.Duplicate {
			fresh++
		}
	}
	if fresh != 1 {
		t.Fatalf("%d answers say new, want 1", fresh)
	}
	if got := len(checkInvariants(t, s, []string{"m1", "c1"})); got != 1 {
		t.Fatalf("%d messages stored, want 1", got)
	}
}

// Appends queued while a commit runs are numbered in queue order.
func testQueuedAppendsKeepOrder(t *testing.T, b backend) {
	s := b.open(t, Options{})
	release := b.holdWrites(t, s)
	blocker := appendAsync(t, s, chat("m9", "c9", ""))
	waitFor(t, "the blocker to be written", func() bool { p, f := queueStats(t, s); return p == 0 && f == 1 })
	const n = 20
	var calls []<-chan appendOutcome
	for i := range n {
		calls = append(calls, appendAsync(t, s, chat("m1", "c1", fmt.Sprint(i))))
		// Queue order is seq order: wait for each to queue before the next.
		waitFor(t, "the append to queue", func() bool { p, _ := queueStats(t, s); return p == i+1 })
	}
	release()
	if out := <-blocker; out.err != nil {
		t.Fatal(out.err)
	}
	for i, c := range calls {
		out := <-c
		if out.err != nil {
			t.Fatal(out.err)
		}
		if out.a.Message.ConvSeq != int64(i+1) {
			t.Errorf("append %d got conv seq %d, want %d", i, out.a.Message.ConvSeq, i+1)
		}
	}
}

type appendOutcome struct {
	a   Appended
	err error
}

// appendAsync runs Append in a goroutine the test waits for before ending.
func appendAsync(t testing.TB, s Store, m NewMessage) <-chan appendOutcome {
	t.Helper()
	out := make(chan appendOutcome, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		a, err := s.Append(t.Context(), m)
		out <- appendOutcome{a, err}
	}()
	t.Cleanup(func() { <-done })
	return out
}

// A request the database refuses fails alone: the others of its batch are
// committed, with no gap left in any sequence.
func testFailingRequestFailsAlone(t *testing.T, b backend) {
	s := b.open(t, Options{})
	b.plantConflict(t, s, "s:c2")
	release := b.holdWrites(t, s)
	blocker := appendAsync(t, s, chat("m9", "c9", ""))
	waitFor(t, "the blocker to be written", func() bool { p, f := queueStats(t, s); return p == 0 && f == 1 })
	good1 := appendAsync(t, s, chat("m1", "c1", "a"))
	waitFor(t, "the append to queue", func() bool { p, _ := queueStats(t, s); return p == 1 })
	bad := appendAsync(t, s, system("c2"))
	waitFor(t, "the append to queue", func() bool { p, _ := queueStats(t, s); return p == 2 })
	good2 := appendAsync(t, s, chat("c1", "m1", "b"))
	waitFor(t, "the append to queue", func() bool { p, _ := queueStats(t, s); return p == 3 })
	release()

	if out := <-blocker; out.err != nil {
		t.Fatal(out.err)
	}
	if out := <-bad; out.err == nil {
		t.Errorf("append conflicting with a stored row succeeded: %+v", out.a)
	}
	for i, c := range []<-chan appendOutcome{good1, good2} {
		out := <-c
		if out.err != nil {
			t.Fatalf("good append %d failed with its batch: %v", i, out.err)
		}
		if out.a.Message.ConvSeq != int64(i+1) {
			t.Errorf("good append %d has conv seq %d, want %d", i, out.a.Message.ConvSeq, i+1)
		}
	}
	if n, _ := s.MaxSeq(t.Context(), "c2"); n != 0 {
		t.Errorf("failed append left inbox seq %d", n)
	}
	checkInvariants(t, s, []string{"m1", "c1", "m9", "c9"})
	// The store keeps working.
	if _, err := s.Append(t.Context(), chat("m1", "c1", "c")); err != nil {
		t.Fatalf("append after a failed one: %v", err)
	}
}
