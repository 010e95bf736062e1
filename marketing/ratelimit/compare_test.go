package ratelimit

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// compareLimits mixes a fast limit, where time between calls matters, with a
// slow one that is mostly exhausted.
var compareLimits = map[Class]Limit{
	"fast": {Rate: 10, Burst: 3, Period: time.Second},
	"slow": {Rate: 20, Burst: 5, Period: time.Hour},
}

type call struct {
	wait     time.Duration // before the call
	merchant string
	class    Class
}

// randomCalls is a fixed pseudo-random sequence: bursts, pauses of up to a
// few emission intervals, two merchants, two classes.
func randomCalls(n int) []call {
	r := rand.New(rand.NewPCG(1, 2))
	calls := make([]call, n)
	for i := range calls {
		var wait time.Duration
		if r.IntN(3) == 0 {
			wait = time.Duration(r.IntN(300_000)) * time.Microsecond
		}
		calls[i] = call{
			wait:     wait,
			merchant: []string{"m1001", "m1002"}[r.IntN(2)],
			class:    []Class{"fast", "slow"}[r.IntN(2)],
		}
	}
	return calls
}

func near(a, b time.Duration) bool { return (a - b).Abs() <= time.Microsecond }

// TestLocalMatchesRedisScript runs redis_rate's own script (on miniredis,
// whose TIME follows the test clock) and the local limiter through the same
// calls at the same instants: every field of every decision must agree.
func TestLocalMatchesRedisScript(t *testing.T) {
	m, c := newMiniredis(t)
	clock := newFakeClock()
	local := NewLocal(compareLimits, Options{Now: clock.Now})
	remote := NewRedis(c, compareLimits, Options{Now: clock.Now, RedisTimeout: 5 * time.Second}) // never the fallback on a loaded machine
	allowed, denied := 0, 0
	for i, cl := range randomCalls(400) {
		clock.Advance(cl.wait)
		m.SetTime(clock.Now())
		want := allow(t, local, cl.merchant, cl.class)
		got := allow(t, remote, cl.merchant, cl.class)
		if got.Source != SourceRedis || want.Source != SourceLocal {
			t.Fatalf("call %d: sources %q and %q", i, got.Source, want.Source)
		}
		if got.Allowed != want.Allowed || got.Remaining != want.Remaining || got.Limit != want.Limit ||
			!near(got.RetryAfter, want.RetryAfter) || !near(got.ResetAfter, want.ResetAfter) {
			t.Fatalf("call %d (%+v):\nredis %+v\nlocal %+v", i, cl, got, want)
		}
		if want.Allowed {
			allowed++
		} else {
			denied++
		}
	}
	// The sequence must exercise both answers to prove anything.
	if allowed < 50 || denied < 50 {
		t.Fatalf("sequence too one-sided: %d allowed, %d denied", allowed, denied)
	}
}

// TestLocalMatchesRealRedis drives the real Redis in real time and the local
// limiter with the instants measured just before each Redis call: the
// allowed/denied patterns must be equal. Pauses land mid-way between
// emission intervals so a loaded machine does not move a call across a
// boundary.
func TestLocalMatchesRealRedis(t *testing.T) {
	c := redisClient(t)
	limits := map[Class]Limit{"fast": {Rate: 5, Burst: 2, Period: time.Second}} // one per 200ms
	var now time.Time
	local := NewLocal(limits, Options{Now: func() time.Time { return now }})
	remote := NewRedis(c, limits, Options{KeyPrefix: testPrefix(t, c), RedisTimeout: time.Second})
	steps := []struct {
		at    time.Duration // since the start
		calls int
	}{
		// On an idle machine: AADD D AD AD AAD.
		{0, 4},
		{100 * time.Millisecond, 1},
		{300 * time.Millisecond, 2},
		{500 * time.Millisecond, 2},
		{1500 * time.Millisecond, 3},
	}
	var got, want []Decision
	start := time.Now()
	for _, s := range steps {
		time.Sleep(time.Until(start.Add(s.at))) // lets limiter time pass; nothing to synchronise with
		for range s.calls {
			now = time.Now()
			want = append(want, allow(t, local, "m1001", "fast"))
			got = append(got, allow(t, remote, "m1001", "fast"))
		}
	}
	if pattern(got) != pattern(want) {
		t.Fatalf("redis %s, local %s", pattern(got), pattern(want))
	}
	for i := range got {
		if got[i].Source != SourceRedis {
			t.Fatalf("call %d decided by %q", i, got[i].Source)
		}
	}
	if p := pattern(got); !strings.Contains(p, "A") || !strings.Contains(p, "D") {
		t.Fatalf("pattern %s does not exercise both answers", p)
	}
}
