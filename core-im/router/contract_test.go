package router

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// newTableFunc builds an empty table for one test, closed in Cleanup, and
// returns how to let time pass: the memory table moves its fake clock; Redis
// needs nothing, real time passes while the test polls.
type newTableFunc func(t testing.TB) (Table, func(time.Duration))

// long is a ttl no test outlives.
const long = time.Minute

// runContract is the behaviour every Table implementation must have.
func runContract(t *testing.T, newTable newTableFunc) {
	for _, tc := range []struct {
		name string
		run  func(*testing.T, newTableFunc)
	}{
		{"PutLookup", testPutLookup},
		{"MultiDevice", testMultiDevice},
		{"ReplaceReturnsOld", testReplaceReturnsOld},
		{"RemoveIsCompareAndDelete", testRemoveIsCompareAndDelete},
		{"RemoveRacesPut", testRemoveRacesPut},
		{"RenewKeepsAlive", testRenewKeepsAlive},
		{"RenewReportsLost", testRenewReportsLost},
		{"Expiry", testExpiry},
		{"ManyUsers", testManyUsers},
		{"Validation", testValidation},
		{"ConcurrentPutsSameDevice", testConcurrentPutsSameDevice},
		{"Count", testCount},
		{"OddIDs", testOddIDs},
		{"SincePrecision", testSincePrecision},
		{"CanceledContext", testCanceledContext},
		{"Closed", testClosed},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, newTable) })
	}
}

func rt(user, device, node, conn string) Route {
	return Route{UserID: user, DeviceID: device, Node: node, ConnID: conn,
		Platform: "ios", Since: time.UnixMilli(1_740_000_000_123)}
}

func put(t testing.TB, tb Table, r Route, ttl time.Duration) *Route {
	t.Helper()
	replaced, err := tb.Put(ctxT(t), r, ttl)
	if err != nil {
		t.Fatalf("put %+v: %v", r, err)
	}
	return replaced
}

func lookup(t testing.TB, tb Table, users ...string) map[string][]Route {
	t.Helper()
	got, err := tb.Lookup(ctxT(t), users)
	if err != nil {
		t.Fatalf("lookup %v: %v", users, err)
	}
	return got
}

func count(t testing.TB, tb Table, node string) int {
	t.Helper()
	n, err := tb.Count(ctxT(t), node)
	if err != nil {
		t.Fatalf("count %s: %v", node, err)
	}
	return n
}

func sameRoute(a, b Route) bool {
	return a.UserID == b.UserID && a.DeviceID == b.DeviceID && a.Node == b.Node &&
		a.ConnID == b.ConnID && a.Platform == b.Platform && a.Since.Equal(b.Since)
}

func wantRoutes(t testing.TB, what string, got, want []Route) {
	t.Helper()
	ok := len(got) == len(want)
	for i := 0; ok && i < len(got); i++ {
		ok = sameRoute(got[i], want[i])
	}
	if !ok {
		t.Fatalf("%s:\n got  %+v\n want %+v", what, got, want)
	}
}

func wantReplaced(t testing.TB, got *Route, want Route) {
	t.Helper()
	if got == nil {
		t.Fatalf("replaced = nil, want %+v", want)
	}
	wantRoutes(t, "replaced", []Route{*got}, []Route{want})
}

func testPutLookup(t *testing.T, newTable newTableFunc) {
	tb, _ := newTable(t)
	r := rt("u1", "d1", "10.0.0.5:8901", "c1")
	if rep := put(t, tb, r, long); rep != nil {
		t.Fatalf("first put replaced %+v", rep)
	}
	got := lookup(t, tb, "u1", "u2")
	if len(got) != 1 {
		t.Fatalf("lookup = %+v, want only u1", got)
	}
	wantRoutes(t, "u1", got["u1"], []Route{r})

	// The same connection registering again is an update, not a takeover.
	r.Platform = "android"
	if rep := put(t, tb, r, long); rep != nil {
		t.Fatalf("re-put by the same connection replaced %+v", rep)
	}
	wantRoutes(t, "u1 after update", lookup(t, tb, "u1")["u1"], []Route{r})
}

func testMultiDevice(t *testing.T, newTable newTableFunc) {
	tb, _ := newTable(t)
	d3 := rt("u1", "d3", "nodeA", "c3")
	d1 := rt("u1", "d1", "nodeA", "c1")
	d2 := rt("u1", "d2", "nodeB", "c1")
	other := rt("u2", "d1", "nodeA", "c9")
	for _, r := range []Route{d3, d1, d2, other} {
		if rep := put(t, tb, r, long); rep != nil {
			t.Fatalf("put %+v replaced %+v", r, rep)
		}
	}
	got := lookup(t, tb, "u1", "u2")
	wantRoutes(t, "u1", got["u1"], []Route{d1, d2, d3})
	wantRoutes(t, "u2", got["u2"], []Route{other})
}

func testReplaceReturnsOld(t *testing.T, newTable newTableFunc) {
	tb, _ := newTable(t)
	old := rt("u1", "d1", "nodeA", "c1")
	put(t, tb, old, long)
	moved := rt("u1", "d1", "nodeB", "c2")
	moved.Platform = "android"
	wantReplaced(t, put(t, tb, moved, long), old)
	// A new connection on the same node also replaces.
	again := rt("u1", "d1", "nodeB", "c3")
	wantReplaced(t, put(t, tb, again, long), moved)
	wantRoutes(t, "u1", lookup(t, tb, "u1")["u1"], []Route{again})
}

func testRemoveIsCompareAndDelete(t *testing.T, newTable newTableFunc) {
	tb, _ := newTable(t)
	ctx := ctxT(t)
	old := rt("u1", "d1", "nodeA", "c1")
	cur := rt("u1", "d1", "nodeB", "c2")
	put(t, tb, old, long)
	put(t, tb, cur, long)
	if removed, err := tb.Remove(ctx, old); err != nil || removed {
		t.Fatalf("late remove of the old connection = %v, %v; want false", removed, err)
	}
	wantRoutes(t, "after late remove", lookup(t, tb, "u1")["u1"], []Route{cur})
	if removed, err := tb.Remove(ctx, cur); err != nil || !removed {
		t.Fatalf("remove of the holder = %v, %v; want true", removed, err)
	}
	if got := lookup(t, tb, "u1"); len(got) != 0 {
		t.Fatalf("after remove: %+v", got)
	}
	if removed, err := tb.Remove(ctx, cur); err != nil || removed {
		t.Fatalf("second remove = %v, %v; want false", removed, err)
	}
}

// testRemoveRacesPut runs an old connection's disconnect against its
// successor's registration: whichever wins, the successor must stay.
func testRemoveRacesPut(t *testing.T, newTable newTableFunc) {
	tb, _ := newTable(t)
	ctx := ctxT(t)
	for i := range 40 {
		user := fmt.Sprintf("u%d", i)
		old := rt(user, "d1", "nodeA", "old")
		cur := rt(user, "d1", "nodeB", "new")
		put(t, tb, old, long)
		start := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(2)
		go func() {
			defer wg.Done()
			<-start
			if _, err := tb.Remove(ctx, old); err != nil {
				t.Errorf("remove: %v", err)
			}
		}()
		go func() {
			defer wg.Done()
			<-start
			if _, err := tb.Put(ctx, cur, long); err != nil {
				t.Errorf("put: %v", err)
			}
		}()
		close(start)
		wg.Wait()
		wantRoutes(t, user, lookup(t, tb, user)[user], []Route{cur})
	}
}

func testRenewKeepsAlive(t *testing.T, newTable newTableFunc) {
	tb, pass := newTable(t)
	const ttl = time.Second
	kept := rt("u1", "d1", "nodeA", "c1")
	put(t, tb, kept, ttl)
	// witness is put after kept with the same ttl, so once it has expired
	// kept would have too without its renewal.
	witness := rt("u2", "d1", "nodeA", "c2")
	put(t, tb, witness, ttl)
	lost, err := tb.Renew(ctxT(t), []Route{kept}, long)
	if err != nil || len(lost) != 0 {
		t.Fatalf("renew = %+v, %v; want nothing lost", lost, err)
	}
	pass(ttl + time.Second)
	eventually(t, 5*time.Second, "witness expires", func() (bool, error) {
		got, err := tb.Lookup(ctxT(t), []string{"u2"})
		return len(got) == 0, err
	})
	wantRoutes(t, "renewed route", lookup(t, tb, "u1")["u1"], []Route{kept})
}

func testRenewReportsLost(t *testing.T, newTable newTableFunc) {
	tb, _ := newTable(t)
	ctx := ctxT(t)
	r1 := rt("u1", "d1", "nodeA", "c1")
	r2 := rt("u1", "d1", "nodeA", "c2")
	never := rt("u2", "d1", "nodeA", "c3")
	put(t, tb, r1, long)
	put(t, tb, r2, long)
	lost, err := tb.Renew(ctx, []Route{r1, r2, never}, long)
	if err != nil {
		t.Fatal(err)
	}
	wantRoutes(t, "lost", lost, []Route{r1, never})
	wantRoutes(t, "u1", lookup(t, tb, "u1")["u1"], []Route{r2})
	if lost, err := tb.Renew(ctx, nil, long); err != nil || len(lost) != 0 {
		t.Fatalf("empty renew = %+v, %v", lost, err)
	}
}

func testExpiry(t *testing.T, newTable newTableFunc) {
	tb, pass := newTable(t)
	ctx := ctxT(t)
	const ttl = 200 * time.Millisecond
	r := rt("u1", "d1", "nodeA", "c1")
	start := time.Now()
	put(t, tb, r, ttl)
	got := lookup(t, tb, "u1")
	if len(got) == 0 && time.Since(start) < ttl {
		t.Fatal("route gone before its ttl")
	}
	if len(got) != 0 {
		wantRoutes(t, "before expiry", got["u1"], []Route{r})
	}
	pass(ttl + 50*time.Millisecond)
	eventually(t, 3*time.Second, "route expires", func() (bool, error) {
		got, err := tb.Lookup(ctx, []string{"u1"})
		return len(got) == 0, err
	})
	if n := count(t, tb, "nodeA"); n != 0 {
		t.Fatalf("count after expiry = %d", n)
	}
	lost, err := tb.Renew(ctx, []Route{r}, long)
	if err != nil {
		t.Fatal(err)
	}
	wantRoutes(t, "renew after expiry lost", lost, []Route{r})
	if removed, err := tb.Remove(ctx, r); err != nil || removed {
		t.Fatalf("remove after expiry = %v, %v; want false", removed, err)
	}
	// An expired holder is not live, so taking the device over replaces
	// nothing the caller should kick.
	put(t, tb, r, ttl)
	pass(ttl + 50*time.Millisecond)
	eventually(t, 3*time.Second, "route expires again", func() (bool, error) {
		got, err := tb.Lookup(ctx, []string{"u1"})
		return len(got) == 0, err
	})
	if rep := put(t, tb, rt("u1", "d1", "nodeB", "c2"), long); rep != nil {
		t.Fatalf("put over an expired route replaced %+v", rep)
	}
}

func testManyUsers(t *testing.T, newTable newTableFunc) {
	tb, _ := newTable(t)
	const n = 300
	want := make(map[string][]Route, n)
	query := make([]string, 0, n+60)
	for i := range n {
		u := fmt.Sprintf("user-%03d", i)
		rs := []Route{rt(u, "d0", fmt.Sprintf("node%d", i%4), "c-"+u)}
		if i%3 == 0 {
			rs = append(rs, rt(u, "d1", "node9", "c1-"+u))
		}
		for _, r := range rs {
			put(t, tb, r, long)
		}
		want[u] = rs
		query = append(query, u)
	}
	for i := range 50 {
		query = append(query, fmt.Sprintf("ghost-%d", i))
	}
	query = append(query, query[:10]...) // duplicates are harmless
	got := lookup(t, tb, query...)
	if len(got) != n {
		t.Fatalf("lookup returned %d users, want %d", len(got), n)
	}
	for u, rs := range want {
		wantRoutes(t, u, got[u], rs)
	}
}

func testValidation(t *testing.T, newTable newTableFunc) {
	tb, _ := newTable(t)
	ctx := ctxT(t)
	good := rt("u1", "d1", "nodeA", "c1")
	with := func(f func(*Route)) Route { r := good; f(&r); return r }
	tooLong := strings.Repeat("x", MaxIDLen+1)
	for _, tc := range []struct {
		name string
		call func() error
	}{
		{"put empty user", func() error { _, err := tb.Put(ctx, with(func(r *Route) { r.UserID = "" }), long); return err }},
		{"put empty device", func() error { _, err := tb.Put(ctx, with(func(r *Route) { r.DeviceID = "" }), long); return err }},
		{"put empty node", func() error { _, err := tb.Put(ctx, with(func(r *Route) { r.Node = "" }), long); return err }},
		{"put empty conn", func() error { _, err := tb.Put(ctx, with(func(r *Route) { r.ConnID = "" }), long); return err }},
		{"put long user", func() error { _, err := tb.Put(ctx, with(func(r *Route) { r.UserID = tooLong }), long); return err }},
		{"put long conn", func() error { _, err := tb.Put(ctx, with(func(r *Route) { r.ConnID = tooLong }), long); return err }},
		{"put long platform", func() error { _, err := tb.Put(ctx, with(func(r *Route) { r.Platform = tooLong }), long); return err }},
		{"put zero ttl", func() error { _, err := tb.Put(ctx, good, 0); return err }},
		{"put negative ttl", func() error { _, err := tb.Put(ctx, good, -time.Second); return err }},
		{"remove empty node", func() error { _, err := tb.Remove(ctx, with(func(r *Route) { r.Node = "" })); return err }},
		{"renew one bad route", func() error {
			_, err := tb.Renew(ctx, []Route{good, with(func(r *Route) { r.DeviceID = tooLong })}, long)
			return err
		}},
		{"renew zero ttl", func() error { _, err := tb.Renew(ctx, []Route{good}, 0); return err }},
		{"lookup empty user", func() error { _, err := tb.Lookup(ctx, []string{"u1", ""}); return err }},
		{"lookup long user", func() error { _, err := tb.Lookup(ctx, []string{tooLong}); return err }},
		{"count empty node", func() error { _, err := tb.Count(ctx, ""); return err }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
			var ve *ValidationError
			if !errors.As(err, &ve) || ve.Field == "" {
				t.Fatalf("err = %#v, want a *ValidationError naming the field", err)
			}
		})
	}
	// Rejected calls stored nothing; ids of exactly MaxIDLen bytes are fine.
	if got := lookup(t, tb, "u1"); len(got) != 0 {
		t.Fatalf("a rejected call stored %+v", got)
	}
	maxID := strings.Repeat("m", MaxIDLen)
	r := Route{UserID: maxID, DeviceID: maxID, Node: maxID, ConnID: maxID, Platform: maxID}
	put(t, tb, r, long)
	wantRoutes(t, "max-length ids", lookup(t, tb, maxID)[maxID], []Route{r})
}

// testConcurrentPutsSameDevice registers one device from n connections at
// once: exactly one must hold it, and every other one must have been
// handed back as replaced exactly once, so each gets kicked.
func testConcurrentPutsSameDevice(t *testing.T, newTable newTableFunc) {
	tb, _ := newTable(t)
	ctx := ctxT(t)
	const n = 16
	var (
		mu       sync.Mutex
		replaced = make(map[string]int)
		wg       sync.WaitGroup
	)
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			rep, err := tb.Put(ctx, rt("u1", "d1", fmt.Sprintf("node%d", i%3), fmt.Sprintf("c%d", i)), long)
			if err != nil {
				t.Errorf("put: %v", err)
				return
			}
			if rep != nil {
				mu.Lock()
				replaced[rep.ConnID]++
				mu.Unlock()
			}
		}()
	}
	close(start)
	wg.Wait()
	rs := lookup(t, tb, "u1")["u1"]
	if len(rs) != 1 {
		t.Fatalf("after concurrent puts: %+v, want exactly one route", rs)
	}
	if _, ok := replaced[rs[0].ConnID]; ok {
		t.Fatalf("holder %s was also reported replaced", rs[0].ConnID)
	}
	if len(replaced) != n-1 {
		t.Fatalf("%d connections reported replaced, want %d: %v", len(replaced), n-1, replaced)
	}
	for c, k := range replaced {
		if k != 1 {
			t.Fatalf("connection %s reported replaced %d times", c, k)
		}
	}
}

func testCount(t *testing.T, newTable newTableFunc) {
	tb, pass := newTable(t)
	ctx := ctxT(t)
	a1 := rt("u1", "d1", "nodeA", "c1")
	a2 := rt("u1", "d2", "nodeA", "c2")
	a3 := rt("u2", "d1", "nodeA", "c3")
	b1 := rt("u3", "d1", "nodeB", "c1")
	for _, r := range []Route{a1, a2, a3, b1} {
		put(t, tb, r, long)
	}
	want := func(node string, n int) {
		t.Helper()
		if got := count(t, tb, node); got != n {
			t.Fatalf("count(%s) = %d, want %d", node, got, n)
		}
	}
	want("nodeA", 3)
	want("nodeB", 1)
	want("nodeZ", 0)
	moved := rt("u1", "d2", "nodeB", "c7") // the device reconnects elsewhere
	wantReplaced(t, put(t, tb, moved, long), a2)
	want("nodeA", 2)
	want("nodeB", 2)
	if removed, err := tb.Remove(ctx, a2); err != nil || removed {
		t.Fatalf("remove of the replaced route = %v, %v", removed, err)
	}
	want("nodeB", 2)
	if removed, err := tb.Remove(ctx, b1); err != nil || !removed {
		t.Fatalf("remove = %v, %v", removed, err)
	}
	want("nodeB", 1)
	lost, err := tb.Renew(ctx, []Route{a1, a2}, long)
	if err != nil {
		t.Fatal(err)
	}
	wantRoutes(t, "lost", lost, []Route{a2})
	want("nodeA", 2)

	short := rt("u4", "d1", "nodeC", "c1")
	put(t, tb, short, 200*time.Millisecond)
	pass(time.Second)
	eventually(t, 3*time.Second, "expired route leaves the count", func() (bool, error) {
		n, err := tb.Count(ctx, "nodeC")
		return n == 0, err
	})
	want("nodeA", 2)
}

// testOddIDs stores ids made of the bytes an encoding could trip on.
func testOddIDs(t *testing.T, newTable newTableFunc) {
	tb, _ := newTable(t)
	ctx := ctxT(t)
	rs := []Route{
		{UserID: "a|b", DeviceID: "1:x", Node: "{n}", ConnID: "c|1:2", Platform: "we|b"},
		{UserID: "a|b", DeviceID: "d\n2", Node: "10.0.0.5:8901", ConnID: ":", Platform: ""},
		{UserID: "用户}{", DeviceID: "设备", Node: "n", ConnID: "0:"},
	}
	for _, r := range rs {
		put(t, tb, r, long)
	}
	got := lookup(t, tb, "a|b", "用户}{")
	wantRoutes(t, "a|b", got["a|b"], rs[:2]) // ordered by device
	wantRoutes(t, "用户}{", got["用户}{"], rs[2:])
	// Same bytes, split differently between node and conn: another
	// connection, so it must not remove.
	split := Route{UserID: "用户}{", DeviceID: "设备", Node: "n0", ConnID: ":"}
	if removed, err := tb.Remove(ctx, split); err != nil || removed {
		t.Fatalf("remove by a look-alike connection = %v, %v", removed, err)
	}
	if removed, err := tb.Remove(ctx, rs[2]); err != nil || !removed {
		t.Fatalf("remove = %v, %v", removed, err)
	}
}

func testSincePrecision(t *testing.T, newTable newTableFunc) {
	tb, _ := newTable(t)
	r := rt("u1", "d1", "nodeA", "c1")
	r.Since = time.Date(2025, 3, 1, 9, 30, 0, 123_456_789, time.UTC)
	put(t, tb, r, long)
	zero := rt("u1", "d2", "nodeA", "c2")
	zero.Since = time.Time{}
	put(t, tb, zero, long)
	got := lookup(t, tb, "u1")["u1"]
	if len(got) != 2 {
		t.Fatalf("lookup = %+v", got)
	}
	if want := r.Since.Truncate(time.Millisecond); !got[0].Since.Equal(want) {
		t.Fatalf("since = %v, want %v", got[0].Since, want)
	}
	if !got[1].Since.IsZero() {
		t.Fatalf("zero since read back as %v", got[1].Since)
	}
}

func testCanceledContext(t *testing.T, newTable newTableFunc) {
	tb, _ := newTable(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := tb.Put(ctx, rt("u1", "d1", "n", "c"), long); !errors.Is(err, context.Canceled) {
		t.Fatalf("put with a canceled context: %v", err)
	}
	if _, err := tb.Lookup(ctx, []string{"u1"}); !errors.Is(err, context.Canceled) {
		t.Fatalf("lookup with a canceled context: %v", err)
	}
	if got := lookup(t, tb, "u1"); len(got) != 0 {
		t.Fatalf("canceled put stored %+v", got)
	}
}

func testClosed(t *testing.T, newTable newTableFunc) {
	tb, _ := newTable(t)
	ctx := ctxT(t)
	r := rt("u1", "d1", "n", "c")
	put(t, tb, r, long)
	if err := tb.Close(); err != nil {
		t.Fatal(err)
	}
	calls := map[string]func() error{
		"put":    func() error { _, err := tb.Put(ctx, r, long); return err },
		"remove": func() error { _, err := tb.Remove(ctx, r); return err },
		"renew":  func() error { _, err := tb.Renew(ctx, []Route{r}, long); return err },
		"lookup": func() error { _, err := tb.Lookup(ctx, []string{"u1"}); return err },
		"count":  func() error { _, err := tb.Count(ctx, "n"); return err },
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, ErrClosed) {
			t.Errorf("%s after close: %v, want ErrClosed", name, err)
		}
	}
	if err := tb.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
}
