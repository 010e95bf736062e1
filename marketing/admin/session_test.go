package admin

import (
	"testing"
	"time"
)

// clock is a settable time for the session table.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func testSessions(limit int) (*sessions, *clock) {
	c := &clock{t: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
	ss := newSessions(time.Hour, limit)
	ss.now = c.now
	return ss, c
}

func TestSessionExpires(t *testing.T) {
	ss, c := testSessions(10)
	tok := ss.open()
	if len(tok) != 26 || !ss.valid(tok) || ss.valid("") || ss.valid(tok+"x") {
		t.Fatalf("token %q: valid %v", tok, ss.valid(tok))
	}
	c.t = c.t.Add(time.Hour - time.Nanosecond)
	if !ss.valid(tok) {
		t.Fatal("session ended before its TTL")
	}
	c.t = c.t.Add(time.Nanosecond)
	if ss.valid(tok) || ss.len() != 0 {
		t.Fatalf("session valid after its TTL, or kept (%d held)", ss.len())
	}
}

func TestSessionClose(t *testing.T) {
	ss, _ := testSessions(10)
	a, b := ss.open(), ss.open()
	if a == b {
		t.Fatal("two sessions share a token")
	}
	ss.close(a)
	ss.close("not-a-session")
	if ss.valid(a) || !ss.valid(b) || ss.len() != 1 {
		t.Fatalf("after close: a %v, b %v, %d held", ss.valid(a), ss.valid(b), ss.len())
	}
}

// The table never holds more than its bound: expired sessions go first, then the oldest.
func TestSessionTableIsBounded(t *testing.T) {
	ss, c := testSessions(3)
	var toks []string
	for range 3 {
		toks = append(toks, ss.open())
		c.t = c.t.Add(time.Minute)
	}
	fourth := ss.open()
	if ss.len() != 3 || ss.valid(toks[0]) || !ss.valid(toks[1]) || !ss.valid(toks[2]) || !ss.valid(fourth) {
		t.Fatalf("full table: %d held; want the oldest closed and the rest valid", ss.len())
	}

	// toks[1] and toks[2] expire; a new session replaces them, not the live fourth.
	c.t = c.t.Add(time.Hour - time.Minute)
	if ss.valid(toks[1]) {
		t.Fatal("toks[1] outlived its TTL")
	}
	fifth := ss.open() // the table held toks[2] (expired) and fourth: not full, nothing swept
	sixth := ss.open() // full: toks[2] is swept, fourth stays
	if ss.len() != 3 || !ss.valid(fourth) || !ss.valid(fifth) || !ss.valid(sixth) || ss.valid(toks[2]) {
		t.Fatalf("after expiry: %d held, fourth %v", ss.len(), ss.valid(fourth))
	}
}
