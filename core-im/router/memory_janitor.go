package router

import (
	"sync/atomic"
	"time"
)

// minSweep bounds how often the janitor runs when ttls are tiny.
const minSweep = 10 * time.Millisecond

// janitor runs sweep periodically in one goroutine owned by the memory
// table: run starts it, stop ends it and waits.
type janitor struct {
	fixed    time.Duration
	shortest atomic.Int64 // shortest ttl seen, in ns; 0 until the first one
	kick     chan struct{}
	quit     chan struct{}
	done     chan struct{}
	sweep    func()
}

func newJanitor(fixed time.Duration, sweep func()) *janitor {
	return &janitor{
		fixed: fixed,
		kick:  make(chan struct{}, 1),
		quit:  make(chan struct{}),
		done:  make(chan struct{}),
		sweep: sweep,
	}
}

// noteTTL records ttl and wakes the janitor when it shortens the interval,
// so a first short ttl is not swept only after a long one's period.
func (j *janitor) noteTTL(ttl time.Duration) {
	if j.fixed > 0 {
		return
	}
	for {
		cur := j.shortest.Load()
		if cur != 0 && cur <= int64(ttl) {
			return
		}
		if j.shortest.CompareAndSwap(cur, int64(ttl)) {
			select {
			case j.kick <- struct{}{}:
			default: // a wake-up is already pending
			}
			return
		}
	}
}

func (j *janitor) interval() time.Duration {
	if j.fixed > 0 {
		return j.fixed
	}
	d := time.Duration(j.shortest.Load()) / 2
	if d < minSweep {
		d = minSweep
	}
	return d
}

func (j *janitor) run() {
	defer close(j.done)
	// The timer stays stopped until an interval is known: without routes
	// there is nothing to sweep.
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	if j.fixed > 0 || j.shortest.Load() > 0 {
		timer.Reset(j.interval())
	}
	for {
		select {
		case <-j.quit:
			return
		case <-j.kick:
			timer.Reset(j.interval())
		case <-timer.C:
			j.sweep()
			timer.Reset(j.interval())
		}
	}
}

func (j *janitor) stop() {
	close(j.quit)
	<-j.done
}
