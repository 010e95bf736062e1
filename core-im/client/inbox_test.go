package client

import (
	"fmt"
	"testing"
	"time"
)

func TestInboxClassify(t *testing.T) {
	b := newInbox(5)
	tests := []struct {
		seq  int64
		want verdict
	}{
		{4, verdictDuplicate},
		{5, verdictDuplicate},
		{6, verdictNext},
		{7, verdictGap},
	}
	for _, tt := range tests {
		if got := b.classify(tt.seq); got != tt.want {
			t.Errorf("classify(%d) after 5 = %d, want %d", tt.seq, got, tt.want)
		}
	}
	b.advance(6, "m6")
	if got := b.classify(7); got != verdictNext {
		t.Errorf("classify(7) after 6 = %d, want next", got)
	}
	if !b.seen("m6") || b.seen("m7") || b.seen("") {
		t.Error("seen ids wrong")
	}
}

// The id memory is bounded: the oldest ids are forgotten first.
func TestInboxForgetsOldIDs(t *testing.T) {
	b := newInbox(0)
	for seq := int64(1); seq <= recentIDs+10; seq++ {
		b.advance(seq, fmt.Sprintf("m%d", seq))
	}
	if len(b.ids) != recentIDs {
		t.Errorf("%d ids remembered, want %d", len(b.ids), recentIDs)
	}
	if b.seen("m10") || !b.seen("m11") || !b.seen(fmt.Sprintf("m%d", recentIDs+10)) {
		t.Error("wrong ids evicted")
	}
	b.advance(3, "m3") // late: the last seq never goes back
	if b.last != recentIDs+10 {
		t.Errorf("last = %d", b.last)
	}
}

func TestBackoffBounds(t *testing.T) {
	lo, hi := 10*time.Millisecond, 100*time.Millisecond
	tests := []struct {
		attempt int
		ceil    time.Duration
	}{
		{0, 10 * time.Millisecond},
		{2, 40 * time.Millisecond},
		{4, 100 * time.Millisecond},
		{63, 100 * time.Millisecond},
		{1000, 100 * time.Millisecond},
	}
	for _, tt := range tests {
		for range 200 {
			if d := backoff(lo, hi, tt.attempt); d < 0 || d > tt.ceil {
				t.Fatalf("backoff(attempt %d) = %v, want within [0, %v]", tt.attempt, d, tt.ceil)
			}
		}
	}
}

func TestAckerCoalesces(t *testing.T) {
	a := newAcker(AckAuto)
	defer a.stop()
	if a.C() != nil {
		t.Fatal("timer armed before any message")
	}
	for i := 1; i < ackBatch; i++ {
		if a.handed() {
			t.Fatalf("ack due after %d messages", i)
		}
	}
	if a.C() == nil {
		t.Fatal("no delayed ack pending")
	}
	if !a.handed() {
		t.Fatalf("no ack due after %d messages", ackBatch)
	}
	a.reset()
	if a.C() != nil {
		t.Fatal("timer still armed after reset")
	}

	m := newAcker(AckManual)
	defer m.stop()
	for range 2 * ackBatch {
		if m.handed() {
			t.Fatal("manual mode acked by itself")
		}
	}
	if m.C() != nil {
		t.Fatal("manual mode armed a timer")
	}
}
