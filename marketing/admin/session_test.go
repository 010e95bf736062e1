package admin

import (
	"testing"
	"time"

	"github.com/bangbang-im/bangbang/marketing/campaign"
)

var viewer = campaign.Actor{KeyID: "key_v", Name: "viewer", Role: campaign.RoleViewer}

func valid(ss *sessions, token string) bool {
	_, ok := ss.get(token)
	return ok
}

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
	tok := ss.start(viewer)
	if len(tok) != 26 || !valid(ss, tok) || valid(ss, "") || valid(ss, tok+"x") {
		t.Fatalf("token %q: valid %v", tok, valid(ss, tok))
	}
	c.t = c.t.Add(time.Hour - time.Nanosecond)
	if !valid(ss, tok) {
		t.Fatal("session ended before its TTL")
	}
	c.t = c.t.Add(time.Nanosecond)
	if valid(ss, tok) || ss.len() != 0 {
		t.Fatalf("session valid after its TTL, or kept (%d held)", ss.len())
	}
}

func TestSessionClose(t *testing.T) {
	ss, _ := testSessions(10)
	a, b := ss.start(viewer), ss.start(viewer)
	if a == b {
		t.Fatal("two sessions share a token")
	}
	ss.close(a)
	ss.close("not-a-session")
	if valid(ss, a) || !valid(ss, b) || ss.len() != 1 {
		t.Fatalf("after close: a %v, b %v, %d held", valid(ss, a), valid(ss, b), ss.len())
	}
}

// The table never holds more than its bound: expired sessions go first, then the oldest.
func TestSessionTableIsBounded(t *testing.T) {
	ss, c := testSessions(3)
	var toks []string
	for range 3 {
		toks = append(toks, ss.start(viewer))
		c.t = c.t.Add(time.Minute)
	}
	fourth := ss.start(viewer)
	if ss.len() != 3 || valid(ss, toks[0]) || !valid(ss, toks[1]) || !valid(ss, toks[2]) || !valid(ss, fourth) {
		t.Fatalf("full table: %d held; want the oldest closed and the rest valid", ss.len())
	}

	// toks[1] and toks[2] expire; a new session replaces them, not the live fourth.
	c.t = c.t.Add(time.Hour - time.Minute)
	if valid(ss, toks[1]) {
		t.Fatal("toks[1] outlived its TTL")
	}
	fifth := ss.start(viewer) // the table held toks[2] (expired) and fourth: not full, nothing swept
	sixth := ss.start(viewer) // full: toks[2] is swept, fourth stays
	if ss.len() != 3 || !valid(ss, fourth) || !valid(ss, fifth) || !valid(ss, sixth) || valid(ss, toks[2]) {
		t.Fatalf("after expiry: %d held, fourth %v", ss.len(), valid(ss, fourth))
	}
}

// A session acts as the key that opened it; revoking that key ends its sessions only.
func TestSessionRemembersTheActor(t *testing.T) {
	ss, _ := testSessions(10)
	sender := campaign.Actor{KeyID: "key_s", Name: "sender", Role: campaign.RoleSender, TraceID: "0af7651916cd43dd8448eb211c80319c"}
	v, s1, s2 := ss.start(viewer), ss.start(sender), ss.start(sender)
	sess, ok := ss.get(s1)
	if got := sess.actor; !ok || got != (campaign.Actor{KeyID: "key_s", Name: "sender", Role: campaign.RoleSender}) {
		t.Fatalf("session actor %+v %v; want the sender without a trace id", sess.actor, ok)
	}
	ss.closeKey("key_s")
	if valid(ss, s1) || valid(ss, s2) || !valid(ss, v) || ss.len() != 1 {
		t.Fatalf("after closing key_s: %v %v %v, %d held", valid(ss, s1), valid(ss, s2), valid(ss, v), ss.len())
	}
}
