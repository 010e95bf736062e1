package store

import (
	"fmt"
	"testing"
	"time"
)

// backend opens fresh, empty stores of one kind for the contract suite.
type backend struct {
	name string
	// open returns a new empty store, closed when the test ends.
	open func(t testing.TB, opt Options) Store
	// holdWrites makes another connection hold the database's write lock, so
	// the store's committer blocks inside its transaction until release.
	holdWrites func(t testing.TB, s Store) (release func())
	// plantConflict stores a message at (convID, 1) behind the store's back,
	// without raising the counter, so the next Append to convID fails in the
	// database.
	plantConflict func(t testing.TB, s Store, convID string)
	// plantMarks stores a delivery ack (user, "phone") and a read mark (user, convID) of
	// seq behind the store's back, past any bound, as an older version could have.
	plantMarks func(t testing.TB, s Store, user, convID string, seq int64)
}

type queueStatser interface {
	queueStats() (pending, inflight int)
}

func queueStats(t testing.TB, s Store) (pending, inflight int) {
	t.Helper()
	q, ok := s.(queueStatser)
	if !ok {
		t.Fatalf("%T does not report its queue", s)
	}
	return q.queueStats()
}

// waitFor polls cond until it holds or a deadline passes.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func convOf(a, b string) string {
	if a > b {
		a, b = b, a
	}
	return "p:" + a + "|" + b
}

// chat is a 1:1 message from→to delivered to both inboxes.
func chat(from, to, clientMsgID string) NewMessage {
	return NewMessage{
		ConvID:      convOf(from, to),
		From:        from,
		To:          to,
		Recipients:  []string{from, to},
		ClientMsgID: clientMsgID,
		Kind:        KindChat,
		ContentType: "text/plain",
		Body:        []byte(fmt.Sprintf("hello %s from %s (%s)", to, from, clientMsgID)),
		SentAt:      time.Now(),
	}
}

// system is a system message to one user.
func system(to string) NewMessage {
	return NewMessage{
		ConvID:      "s:" + to,
		To:          to,
		Recipients:  []string{to},
		Kind:        KindSystem,
		ContentType: "application/json",
		Body:        []byte(`{"notice":"listing refreshed"}`),
		SentAt:      time.Now(),
	}
}

// appendN appends m n times (m has no ClientMsgID, so each is a new message).
func appendN(t testing.TB, s Store, n int, m NewMessage) {
	t.Helper()
	for range n {
		if _, err := s.Append(t.Context(), m); err != nil {
			t.Fatalf("append: %v", err)
		}
	}
}

// syncAll reads a whole inbox page by page.
func syncAll(t testing.TB, s Store, user string) []InboxMessage {
	t.Helper()
	var all []InboxMessage
	var after int64
	for {
		page, more, err := s.Sync(t.Context(), user, after, 97)
		if err != nil {
			t.Fatalf("sync %s after %d: %v", user, after, err)
		}
		all = append(all, page...)
		if len(page) > 0 {
			after = page[len(page)-1].Seq
		}
		if !more {
			return all
		}
		if len(page) == 0 {
			t.Fatalf("sync %s: more with an empty page", user)
		}
	}
}

// checkInvariants verifies the sequence guarantees over users' inboxes:
// inbox seqs are 1..n, each conversation's ConvSeqs are 1..n over its
// distinct messages, a conversation's messages appear in ConvSeq order in
// every inbox, and MaxSeq is n. It returns the distinct messages by id.
func checkInvariants(t testing.TB, s Store, users []string) map[string]Message {
	t.Helper()
	byID := make(map[string]Message)
	for _, u := range users {
		inbox := syncAll(t, s, u)
		lastConvSeq := make(map[string]int64)
		for i, im := range inbox {
			if im.Seq != int64(i+1) {
				t.Fatalf("inbox %s: entry %d has seq %d, want %d", u, i, im.Seq, i+1)
			}
			m := im.Message
			if m.ConvSeq <= lastConvSeq[m.ConvID] {
				t.Fatalf("inbox %s: conv %s seq %d after %d", u, m.ConvID, m.ConvSeq, lastConvSeq[m.ConvID])
			}
			lastConvSeq[m.ConvID] = m.ConvSeq
			if prev, ok := byID[m.ID]; ok && (prev.ConvSeq != m.ConvSeq || prev.ConvID != m.ConvID) {
				t.Fatalf("message %s read as %s/%d and %s/%d", m.ID, prev.ConvID, prev.ConvSeq, m.ConvID, m.ConvSeq)
			}
			byID[m.ID] = m
		}
		maxSeq, err := s.MaxSeq(t.Context(), u)
		if err != nil {
			t.Fatalf("max seq %s: %v", u, err)
		}
		if maxSeq != int64(len(inbox)) {
			t.Fatalf("max seq %s = %d, inbox holds %d", u, maxSeq, len(inbox))
		}
	}
	convSeqs := make(map[string]map[int64]bool)
	for _, m := range byID {
		if convSeqs[m.ConvID] == nil {
			convSeqs[m.ConvID] = make(map[int64]bool)
		}
		if convSeqs[m.ConvID][m.ConvSeq] {
			t.Fatalf("conv %s: seq %d used twice", m.ConvID, m.ConvSeq)
		}
		convSeqs[m.ConvID][m.ConvSeq] = true
	}
	for conv, seqs := range convSeqs {
		for i := int64(1); i <= int64(len(seqs)); i++ {
			if !seqs[i] {
				t.Fatalf("conv %s: %d messages but seq %d missing", conv, len(seqs), i)
			}
		}
	}
	return byID
}
