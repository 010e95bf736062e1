package router

import (
	"testing"
	"time"

	"go.uber.org/goleak"
)

// newMemoryTable gives the contract a memory table whose clock moves only
// when the test says time passes.
func newMemoryTable(t testing.TB) (Table, func(time.Duration)) {
	clock := newFakeClock()
	tb := NewMemory(MemoryOptions{Shards: 8, Now: clock.Now})
	t.Cleanup(func() { _ = tb.Close() })
	return tb, clock.Advance
}

func TestMemoryContract(t *testing.T) {
	runContract(t, newMemoryTable)
}

// stored counts the entries a memory table still holds, expired or not,
// and checks the node index agrees with the user maps.
func stored(t *testing.T, tb Table) int {
	t.Helper()
	m := tb.(*memory)
	n := 0
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.RLock()
		indexed := 0
		for _, set := range s.nodes {
			indexed += len(set)
		}
		users := 0
		for _, devs := range s.users {
			users += len(devs)
		}
		s.mu.RUnlock()
		if indexed != users {
			t.Fatalf("shard %d: %d entries indexed by node, %d by user", i, indexed, users)
		}
		n += users
	}
	return n
}

func TestMemoryJanitorSweepsExpired(t *testing.T) {
	for _, tc := range []struct {
		name  string
		sweep time.Duration
	}{
		{"half the ttl", 0},
		{"fixed interval", 5 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := newFakeClock()
			tb := NewMemory(MemoryOptions{Shards: 4, Now: clock.Now, SweepInterval: tc.sweep})
			t.Cleanup(func() { _ = tb.Close() })
			ctx := ctxT(t)
			for _, u := range []string{"u1", "u2", "u3"} {
				if _, err := tb.Put(ctx, Route{UserID: u, DeviceID: "d", Node: "n", ConnID: "c-" + u}, 40*time.Millisecond); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := tb.Put(ctx, Route{UserID: "u1", DeviceID: "d2", Node: "n", ConnID: "long"}, time.Hour); err != nil {
				t.Fatal(err)
			}
			clock.Advance(time.Second)
			// Lookup hides expired routes at once; the janitor frees them.
			eventually(t, 3*time.Second, "janitor sweeps expired routes", func() (bool, error) {
				return stored(t, tb) == 1, nil
			})
			got, err := tb.Lookup(ctx, []string{"u1", "u2"})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || len(got["u1"]) != 1 || got["u1"][0].ConnID != "long" {
				t.Fatalf("after sweep: %+v", got)
			}
		})
	}
}

func TestMemoryCloseStopsJanitor(t *testing.T) {
	before := goleak.IgnoreCurrent()
	tb := NewMemory(MemoryOptions{SweepInterval: time.Millisecond})
	if _, err := tb.Put(ctxT(t), Route{UserID: "u", DeviceID: "d", Node: "n", ConnID: "c"}, time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := tb.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-tb.(*memory).janitor.done:
	default:
		t.Fatal("Close returned before the janitor stopped")
	}
	goleak.VerifyNone(t, before)
}

func TestMemoryShardDefaults(t *testing.T) {
	tb := NewMemory(MemoryOptions{Shards: -3})
	t.Cleanup(func() { _ = tb.Close() })
	if n := len(tb.(*memory).shards); n != 64 {
		t.Fatalf("shards = %d, want 64", n)
	}
}
