package client

import (
	"errors"
	"testing"
	"time"

	"github.com/bangbang-im/bangbang/gen/frame"
)

// Pushes are delivered in seq order; a message pushed twice, or already synced, is dropped.
func TestPushesInOrderWithoutDuplicates(t *testing.T) {
	s := newTestServer(t)
	s.store(msgs(1, 3)...)
	c := dial(t, testConfig(t, s))
	sc := s.accept()
	wantSeqs(t, receive(t, c, 3), 1, 3) // from the first sync

	s.store(msgs(4, 6)...)
	sc.push(msg(3))         // already synced
	sc.push(msg(4), msg(5)) // new
	sc.push(msg(4))         // pushed twice
	sc.push(msg(5), msg(6))
	wantSeqs(t, receive(t, c, 3), 4, 6)
	noMore(t, c, sc, 7)
	_ = c.Close() // LastSeq counts messages put into the channel: stop the deliverer first
	if got := c.LastSeq(); got != 7 {
		t.Errorf("LastSeq = %d, want 7", got)
	}
}

// A message repeated under another seq (the server's at-least-once) reaches the app once.
func TestDuplicateMessageIDDropped(t *testing.T) {
	s := newTestServer(t)
	c := dial(t, testConfig(t, s))
	sc := s.accept()
	synced(t, c, sc)
	again := msg(1)
	again.Seq = 2
	s.store(msg(1), again, msg(3))
	sc.push(msg(1))
	sc.push(again)
	sc.push(msg(3))
	got := receive(t, c, 2)
	if got[0].Seq != 1 || got[1].Seq != 3 {
		t.Fatalf("got seqs %v, want [1 3]", seqsOf(got))
	}
	noMore(t, c, sc, 4)
}

// A push that skips seqs makes the client sync from its last seq.
func TestGapTriggersSync(t *testing.T) {
	s := newTestServer(t)
	c := dial(t, testConfig(t, s))
	sc := s.accept()
	synced(t, c, sc)

	s.store(msgs(1, 5)...)
	sc.push(msg(1))
	sc.push(msg(2))
	sc.push(msg(5)) // 3 and 4 are missing
	wantSeqs(t, receive(t, c, 5), 1, 5)
	s.mu.Lock()
	syncs := append([]syncCall(nil), s.syncs...)
	s.mu.Unlock()
	if len(syncs) != 2 || syncs[1].after != 2 {
		t.Errorf("syncs = %+v, want a second one after seq 2", syncs)
	}
	noMore(t, c, sc, 6)
}

// After the server drops the connection the client resumes from LastSeq: SYNC (paged) comes
// before pushes, pushes that arrive meanwhile are kept only when they continue the sequence,
// and the app sees every message once.
func TestReconnectResumesFromLastSeq(t *testing.T) {
	s := newTestServer(t)
	s.pageSize = 2
	s.store(msgs(1, 3)...)
	s.onSync = func(sc *serverConn, req *frame.SyncRequest) {
		if sc.n == 2 && req.AfterSeq == 3 {
			// Pushed while the client syncs: 6 duplicates the sync, 8 (stored after the
			// sync's snapshot) continues it.
			sc.push(msg(6))
			sc.push(msg(8))
		}
	}
	c := dial(t, testConfig(t, s))
	first := s.accept()
	wantSeqs(t, receive(t, c, 3), 1, 3)

	s.store(msgs(4, 7)...) // stored while the client is away
	first.drop()
	second := s.accept()
	wantSeqs(t, receive(t, c, 5), 4, 8)

	s.mu.Lock()
	var after []int64
	for _, sc := range s.syncs {
		if sc.conn == 2 {
			after = append(after, sc.after)
		}
	}
	s.mu.Unlock()
	// Pages of 2: after 3 (4,5, has_more), after 5 (6,7).
	if len(after) != 2 || after[0] != 3 || after[1] != 5 {
		t.Errorf("syncs on the new connection after %v, want [3 5]", after)
	}
	noMore(t, c, second, 9)
}

func TestResumePoint(t *testing.T) {
	tests := []struct {
		name      string
		lastSeq   int64 // Config.LastSeq
		ackedSeq  int64 // AUTH_OK acked_seq
		wantAfter int64
	}{
		{"first run starts at the device's acked seq", 0, 5, 5},
		{"the app's persisted seq wins", 3, 5, 3},
		{"nothing acked yet", 0, 0, 0},
		// max_seq (6) is the truth: an acked_seq past it (a DELIVER_ACK of 2^62 an older
		// server stored) or a persisted seq past it would drop every message.
		{"an acked seq past max_seq resumes at max_seq", 0, 1 << 62, 6},
		{"a persisted seq past max_seq resumes at max_seq", 1 << 62, 5, 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestServer(t)
			s.ackedSeq = tt.ackedSeq
			s.store(msgs(1, 6)...)
			cfg := testConfig(t, s)
			cfg.LastSeq = tt.lastSeq
			c := dial(t, cfg)
			if tt.wantAfter < 6 {
				wantSeqs(t, receive(t, c, int(6-tt.wantAfter)), tt.wantAfter+1, 6)
			}
			// What comes after the resume point is delivered, not dropped as seen.
			next := msgs(7, 7)
			s.store(next...)
			s.accept().push(next...)
			wantSeqs(t, receive(t, c, 1), 7, 7)
			s.waitFor("the first sync", func() bool { return len(s.syncs) > 0 })
			s.mu.Lock()
			first := s.syncs[0]
			s.mu.Unlock()
			if first.after != tt.wantAfter {
				t.Errorf("first sync after %d, want %d", first.after, tt.wantAfter)
			}
		})
	}
}

// AckAuto sends cumulative, coalesced DELIVER_ACKs for what the app has received.
func TestAutoAck(t *testing.T) {
	s := newTestServer(t)
	c := dial(t, testConfig(t, s))
	sc := s.accept()
	synced(t, c, sc)
	const n = 200
	s.store(msgs(1, n)...)
	for seq := int64(1); seq <= n; seq += 10 {
		sc.push(msgs(seq, seq+9)...)
	}
	wantSeqs(t, receive(t, c, n), 1, n)
	s.waitFor("an ack of the last message", func() bool {
		return len(s.acks) > 0 && s.acks[len(s.acks)-1] == n
	})
	s.mu.Lock()
	acks := append([]int64(nil), s.acks...)
	s.mu.Unlock()
	if len(acks) >= n/2 {
		t.Errorf("%d acks for %d messages: not coalesced", len(acks), n)
	}
	for i := 1; i < len(acks); i++ {
		if acks[i] <= acks[i-1] {
			t.Errorf("acks not increasing: %v", acks)
			break
		}
	}
}

func TestManualAck(t *testing.T) {
	s := newTestServer(t)
	s.store(msgs(1, 3)...)
	cfg := testConfig(t, s)
	cfg.AckMode = AckManual
	c := dial(t, cfg)
	sc := s.accept()
	wantSeqs(t, receive(t, c, 3), 1, 3)

	if err := c.Ack(t.Context(), 4); !errors.Is(err, ErrInvalid) {
		t.Errorf("Ack beyond LastSeq = %v, want ErrInvalid", err)
	}
	if err := c.Ack(t.Context(), 2); err != nil {
		t.Fatalf("Ack: %v", err)
	}
	s.waitFor("the manual ack", func() bool { return len(s.acks) > 0 })
	// No auto ack may have been sent before: the app's ack is the first and only one.
	s.mu.Lock()
	acks := append([]int64(nil), s.acks...)
	s.mu.Unlock()
	if len(acks) != 1 || acks[0] != 2 {
		t.Errorf("acks = %v, want [2]", acks)
	}

	// An ack the server has not recorded is sent again on the next connection.
	sc.drop()
	s.accept()
	s.waitFor("the ack resent on reconnect", func() bool { return len(s.acks) == 2 && s.acks[1] == 2 })
}

// An app that does not keep up makes the client drop pushes rather than stall its reader;
// it syncs what it dropped once the app reads again, and nothing is lost or repeated.
func TestSlowAppDropsPushesAndSyncs(t *testing.T) {
	s := newTestServer(t)
	cfg := testConfig(t, s)
	cfg.Buffer = 1
	c := dial(t, cfg)
	sc := s.accept()
	synced(t, c, sc)

	const n = pushQueue + 50
	s.store(msgs(1, n)...)
	for seq := int64(1); seq <= n; seq++ {
		sc.push(msg(seq))
	}
	// The reader handles frames in order: once READ_ACK is through, every push was either
	// queued or dropped, while the app has read nothing.
	roundTrip(t, c, sc)
	wantSeqs(t, receive(t, c, n), 1, n)
	s.mu.Lock()
	syncs := len(s.syncs)
	s.mu.Unlock()
	if syncs < 2 {
		t.Errorf("%d syncs: the dropped pushes were not synced", syncs)
	}
	noMore(t, c, sc, n+1)
}

// A message stored while its push could not be delivered, with nothing after it to reveal
// the gap: a connection quiet for ResyncInterval syncs by itself and the app gets it.
func TestQuietConnectionResyncs(t *testing.T) {
	s := newTestServer(t)
	cfg := testConfig(t, s)
	cfg.ResyncInterval = 50 * time.Millisecond
	c := dial(t, cfg)
	sc := s.accept()
	synced(t, c, sc)

	s.store(msgs(1, 2)...) // stored, never pushed
	wantSeqs(t, receive(t, c, 2), 1, 2)
	s.mu.Lock()
	last := s.syncs[len(s.syncs)-1]
	s.mu.Unlock()
	if last.after != 0 {
		t.Fatalf("resync after seq %d, want 0", last.after)
	}
}
