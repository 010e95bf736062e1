package client

import (
	"sync/atomic"
	"time"
)

// Auto acks are coalesced: one DELIVER_ACK per ackBatch messages handed, or ackDelay after
// the first unacknowledged one, whichever comes first. Acks are cumulative, so coalescing
// loses nothing; at worst a reconnect redelivers up to a batch, which the inbox drops.
const (
	ackBatch = 64
	ackDelay = 50 * time.Millisecond
)

// acker decides when the delivery goroutine sends an auto ack. It is not safe for
// concurrent use.
type acker struct {
	auto  bool
	count int // messages handed since the last ack
	timer *time.Timer
	armed bool
}

func newAcker(mode AckMode) acker {
	t := time.NewTimer(ackDelay)
	t.Stop()
	return acker{auto: mode == AckAuto, timer: t}
}

// handed counts one message given to the app and reports whether to ack now.
func (a *acker) handed() bool {
	if !a.auto {
		return false
	}
	a.count++
	if a.count >= ackBatch {
		return true
	}
	if !a.armed {
		a.timer.Reset(ackDelay)
		a.armed = true
	}
	return false
}

// C fires when a delayed ack is due; nil (never ready) when none is pending.
func (a *acker) C() <-chan time.Time {
	if !a.armed {
		return nil
	}
	return a.timer.C
}

func (a *acker) reset() {
	a.count = 0
	a.armed = false
	a.timer.Stop()
}

func (a *acker) stop() { a.timer.Stop() }

// raise sets v to seq unless it already holds more.
func raise(v *atomic.Int64, seq int64) {
	for {
		old := v.Load()
		if seq <= old || v.CompareAndSwap(old, seq) {
			return
		}
	}
}
