package idempotency

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

// env is one store under test and how time passes for it.
type env struct {
	store Store
	// peer is a second Store on the same state, as a second edge process;
	// for the memory store it is the same store.
	peer Store
	// advance lets d pass: the memory store's clock moves; for Redis real
	// time passes while the test polls.
	advance func(d time.Duration)
	// short is a lease or ttl the test waits out.
	short time.Duration
}

type newEnvFunc func(t *testing.T) env

// long is a lease or ttl no test outlives.
const long = time.Minute

func TestContractMemory(t *testing.T) {
	runContract(t, func(t *testing.T) env {
		clock := newFakeClock()
		s := NewMemory(Options{Now: clock.Now})
		return env{store: s, peer: s, advance: clock.Advance, short: time.Second}
	})
}

func TestContractRedis(t *testing.T) {
	runContract(t, func(t *testing.T) env {
		c := redisClient(t)
		prefix := testPrefix(t, c)
		return env{
			store:   NewRedis(c, Options{Prefix: prefix}),
			peer:    NewRedis(c, Options{Prefix: prefix}),
			advance: func(time.Duration) {},
			short:   400 * time.Millisecond,
		}
	})
}

// runContract is the behaviour every Store must have.
func runContract(t *testing.T, newEnv newEnvFunc) {
	for _, tc := range []struct {
		name string
		run  func(*testing.T, env)
	}{
		{"ClaimCompleteReplay", testClaimCompleteReplay},
		{"Mismatch", testMismatch},
		{"ScopesAreSeparate", testScopesAreSeparate},
		{"AbortLetsRetryClaim", testAbortLetsRetryClaim},
		{"LeaseExpires", testLeaseExpires},
		{"RecordExpires", testRecordExpires},
		{"CompleteAfterLeaseExpired", testCompleteAfterLeaseExpired},
		{"CompleteNotClaimed", testCompleteNotClaimed},
		{"BodyRoundTrip", testBodyRoundTrip},
		{"Validation", testValidation},
		{"ConcurrentBegin", testConcurrentBegin},
		{"ReplayRacesComplete", testReplayRacesComplete},
		{"SharedByPeers", testSharedByPeers},
		{"CanceledContext", testCanceledContext},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, newEnv(t)) })
	}
}

var fpA, fpB = Fingerprint("POST", "/v1/listings/:id/promote", "m1001", []byte(`{"days":7}`)),
	Fingerprint("POST", "/v1/listings/:id/promote", "m1001", []byte(`{"days":30}`))

func okRecord(fp string) Record {
	return Record{Status: 200, Body: []byte(`{"charged":70}`), ContentType: "application/json", Fingerprint: fp}
}

func begin(t *testing.T, s Store, scope, key, fp string, lease time.Duration) (*Record, bool, error) {
	t.Helper()
	return s.Begin(ctxT(t), scope, key, fp, lease)
}

func mustClaim(t *testing.T, s Store, scope, key, fp string, lease time.Duration) {
	t.Helper()
	rec, ok, err := begin(t, s, scope, key, fp, lease)
	if err != nil || !ok || rec != nil {
		t.Fatalf("begin %s/%s: rec %v, ok %v, err %v; want a claim", scope, key, rec, ok, err)
	}
}

func mustComplete(t *testing.T, s Store, scope, key string, rec Record, ttl time.Duration) {
	t.Helper()
	if err := s.Complete(ctxT(t), scope, key, rec, ttl); err != nil {
		t.Fatalf("complete %s/%s: %v", scope, key, err)
	}
}

func mustReplay(t *testing.T, s Store, scope, key, fp string) *Record {
	t.Helper()
	rec, ok, err := begin(t, s, scope, key, fp, long)
	if err != nil || ok || rec == nil {
		t.Fatalf("begin %s/%s: rec %v, ok %v, err %v; want the record", scope, key, rec, ok, err)
	}
	return rec
}

func wantErr(t *testing.T, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("err %v, want %v", err, want)
	}
}

func sameRecord(a, b *Record) bool {
	return a.Status == b.Status && bytes.Equal(a.Body, b.Body) && a.ContentType == b.ContentType &&
		a.Fingerprint == b.Fingerprint && a.CreatedAt.Equal(b.CreatedAt)
}

func testClaimCompleteReplay(t *testing.T, e env) {
	s := e.store
	mustClaim(t, s, "m1001", "k1", fpA, long)
	_, _, err := begin(t, s, "m1001", "k1", fpA, long)
	wantErr(t, err, ErrInFlight)

	at := time.UnixMilli(1_740_000_000_123)
	want := okRecord(fpA)
	want.CreatedAt = at
	mustComplete(t, s, "m1001", "k1", want, long)
	for range 2 { // a replay does not consume the record
		if got := mustReplay(t, s, "m1001", "k1", fpA); !sameRecord(got, &want) {
			t.Fatalf("replay %+v, want %+v", got, want)
		}
	}
	// A 4xx business fault is definitive too.
	mustClaim(t, s, "m1001", "k2", fpA, long)
	fault := Record{Status: 402, Body: []byte(`{"code":"insufficient_credits"}`), ContentType: "application/json", Fingerprint: fpA}
	mustComplete(t, s, "m1001", "k2", fault, long)
	if got := mustReplay(t, s, "m1001", "k2", fpA); got.Status != 402 || got.CreatedAt.IsZero() {
		t.Fatalf("fault replay %+v", got)
	}
}

func testMismatch(t *testing.T, e env) {
	s := e.store
	mustClaim(t, s, "m1001", "k1", fpA, long)
	_, _, err := begin(t, s, "m1001", "k1", fpB, long)
	wantErr(t, err, ErrMismatch)
	mustComplete(t, s, "m1001", "k1", okRecord(fpA), long)
	_, _, err = begin(t, s, "m1001", "k1", fpB, long)
	wantErr(t, err, ErrMismatch)
	mustReplay(t, s, "m1001", "k1", fpA)
}

func testScopesAreSeparate(t *testing.T, e env) {
	s := e.store
	mustClaim(t, s, "m1001", "same-key", fpA, long)
	mustClaim(t, s, "m1002", "same-key", fpB, long)
	mustComplete(t, s, "m1002", "same-key", okRecord(fpB), long)
	_, _, err := begin(t, s, "m1001", "same-key", fpA, long)
	wantErr(t, err, ErrInFlight)
}

func testAbortLetsRetryClaim(t *testing.T, e env) {
	s := e.store
	ctx := ctxT(t)
	mustClaim(t, s, "m1001", "k1", fpA, long)
	if err := s.Abort(ctx, "m1001", "k1"); err != nil {
		t.Fatal(err)
	}
	mustClaim(t, s, "m1001", "k1", fpA, long)
	mustComplete(t, s, "m1001", "k1", okRecord(fpA), long)
	// Abort never deletes a record, and aborting nothing is fine.
	if err := s.Abort(ctx, "m1001", "k1"); err != nil {
		t.Fatal(err)
	}
	mustReplay(t, s, "m1001", "k1", fpA)
	if err := s.Abort(ctx, "m1001", "never-used"); err != nil {
		t.Fatal(err)
	}
	// After an abort the key is free for any request.
	mustClaim(t, s, "m1001", "k2", fpA, long)
	if err := s.Abort(ctx, "m1001", "k2"); err != nil {
		t.Fatal(err)
	}
	mustClaim(t, s, "m1001", "k2", fpB, long)
}

func testLeaseExpires(t *testing.T, e env) {
	s := e.store
	mustClaim(t, s, "m1001", "k1", fpA, e.short)
	_, _, err := begin(t, s, "m1001", "k1", fpA, long)
	wantErr(t, err, ErrInFlight)
	e.advance(e.short)
	eventually(t, 5*time.Second, "claim after the lease", func() bool {
		_, ok, err := begin(t, s, "m1001", "k1", fpA, long)
		if err != nil && !errors.Is(err, ErrInFlight) {
			t.Fatal(err)
		}
		return ok
	})
}

func testRecordExpires(t *testing.T, e env) {
	s := e.store
	mustClaim(t, s, "m1001", "k1", fpA, long)
	mustComplete(t, s, "m1001", "k1", okRecord(fpA), e.short)
	mustReplay(t, s, "m1001", "k1", fpA)
	e.advance(e.short)
	eventually(t, 5*time.Second, "claim after the ttl", func() bool {
		rec, ok, err := begin(t, s, "m1001", "k1", fpB, long)
		if err != nil && !errors.Is(err, ErrMismatch) || rec != nil {
			t.Fatalf("rec %v, err %v", rec, err)
		}
		return ok
	})
}

// testCompleteAfterLeaseExpired: a request that outlived its lease still
// records its definitive outcome, so later replays get it.
func testCompleteAfterLeaseExpired(t *testing.T, e env) {
	s := e.store
	mustClaim(t, s, "m1001", "k1", fpA, e.short)
	e.advance(e.short)
	// Another request's Begin sees the claim (ErrMismatch) until it expires;
	// it then claims and releases the key, leaving no claim at all.
	eventually(t, 5*time.Second, "lease gone", func() bool {
		_, ok, err := begin(t, s, "m1001", "k1", fpB, long)
		if err != nil && !errors.Is(err, ErrMismatch) {
			t.Fatal(err)
		}
		return ok
	})
	if err := s.Abort(ctxT(t), "m1001", "k1"); err != nil {
		t.Fatal(err)
	}
	mustComplete(t, s, "m1001", "k1", okRecord(fpA), long)
	mustReplay(t, s, "m1001", "k1", fpA)
}

func testCompleteNotClaimed(t *testing.T, e env) {
	s := e.store
	ctx := ctxT(t)
	mustClaim(t, s, "m1001", "k1", fpA, long)
	// A record for another request does not replace the claim.
	wantErr(t, s.Complete(ctx, "m1001", "k1", okRecord(fpB), long), ErrNotClaimed)
	_, _, err := begin(t, s, "m1001", "k1", fpA, long)
	wantErr(t, err, ErrInFlight)

	first := okRecord(fpA)
	mustComplete(t, s, "m1001", "k1", first, long)
	second := okRecord(fpA)
	second.Body = []byte(`{"charged":140}`)
	wantErr(t, s.Complete(ctx, "m1001", "k1", second, long), ErrNotClaimed)
	if got := mustReplay(t, s, "m1001", "k1", fpA); !bytes.Equal(got.Body, first.Body) {
		t.Fatalf("the first result must win, got %s", got.Body)
	}
}

func testBodyRoundTrip(t *testing.T, e env) {
	s := e.store
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	for i, body := range [][]byte{all, nil, bytes.Repeat([]byte("é"), defaultMaxBody/2)} {
		key := "body-" + string(rune('a'+i))
		mustClaim(t, s, "m1001", key, fpA, long)
		rec := Record{Status: 201, Body: body, ContentType: "application/octet-stream", Fingerprint: fpA}
		mustComplete(t, s, "m1001", key, rec, long)
		got := mustReplay(t, s, "m1001", key, fpA)
		if !bytes.Equal(got.Body, body) || got.ContentType != rec.ContentType || got.Status != 201 {
			t.Fatalf("body %d: got %d bytes %+v", i, len(got.Body), got)
		}
		// The caller owns the bytes it gets.
		if len(got.Body) > 0 {
			got.Body[0] ^= 0xff
			if again := mustReplay(t, s, "m1001", key, fpA); !bytes.Equal(again.Body, body) {
				t.Fatalf("body %d changed through a returned record", i)
			}
		}
	}
}

func testValidation(t *testing.T, e env) {
	s := e.store
	ctx := ctxT(t)
	for _, key := range []string{"", strings.Repeat("k", MaxKeyLen+1), "a\nb", "caf\xc3\xa9", "\x7f"} {
		_, _, err := s.Begin(ctx, "m1001", key, fpA, long)
		wantErr(t, err, ErrInvalidKey)
		wantErr(t, s.Complete(ctx, "m1001", key, okRecord(fpA), long), ErrInvalidKey)
		wantErr(t, s.Abort(ctx, "m1001", key), ErrInvalidKey)
	}
	for _, key := range []string{strings.Repeat("k", MaxKeyLen), "9f1c 2b:{x}/~!", "a"} {
		mustClaim(t, s, "m1001", key, fpA, long)
	}
	for _, scope := range []string{"", "m{1}", "m 1", strings.Repeat("m", 129)} {
		_, _, err := s.Begin(ctx, scope, "k", fpA, long)
		wantErr(t, err, ErrInvalidArgument)
	}
	_, _, err := s.Begin(ctx, "m1001", "k", "", long)
	wantErr(t, err, ErrInvalidArgument)
	_, _, err = s.Begin(ctx, "m1001", "k", fpA, 0)
	wantErr(t, err, ErrInvalidArgument)

	mustClaim(t, s, "m1001", "v", fpA, long)
	for name, mutate := range map[string]func(*Record){
		"5xx":          func(r *Record) { r.Status = 502 },
		"no status":    func(r *Record) { r.Status = 0 },
		"1xx":          func(r *Record) { r.Status = 100 },
		"fingerprint":  func(r *Record) { r.Fingerprint = "" },
		"content type": func(r *Record) { r.ContentType = strings.Repeat("x", 200) },
	} {
		rec := okRecord(fpA)
		mutate(&rec)
		if err := s.Complete(ctx, "m1001", "v", rec, long); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("%s: %v", name, err)
		}
	}
	wantErr(t, s.Complete(ctx, "m1001", "v", okRecord(fpA), 0), ErrInvalidArgument)
	big := okRecord(fpA)
	big.Body = make([]byte, defaultMaxBody+1)
	wantErr(t, s.Complete(ctx, "m1001", "v", big, long), ErrTooLarge)
	// None of the rejected calls touched the claim.
	_, _, err = begin(t, s, "m1001", "v", fpA, long)
	wantErr(t, err, ErrInFlight)
}

// testConcurrentBegin: 20 requests with one key at once, over both peers:
// exactly one claims it; the others see it in flight, then the record.
func testConcurrentBegin(t *testing.T, e env) {
	ctx := ctxT(t)
	stores := []Store{e.store, e.peer}
	run := func() (claims, inFlight, records int) {
		var mu sync.Mutex
		var wg sync.WaitGroup
		start := make(chan struct{})
		for g := range 20 {
			wg.Go(func() {
				<-start
				rec, ok, err := stores[g%2].Begin(ctx, "m1001", "k1", fpA, long)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case ok:
					claims++
				case errors.Is(err, ErrInFlight):
					inFlight++
				case err == nil && rec != nil:
					records++
				default:
					t.Errorf("begin: rec %v, ok %v, err %v", rec, ok, err)
				}
			})
		}
		close(start)
		wg.Wait()
		return
	}
	if c, f, r := run(); c != 1 || f != 19 || r != 0 {
		t.Fatalf("first wave: %d claims, %d in flight, %d records", c, f, r)
	}
	mustComplete(t, e.store, "m1001", "k1", okRecord(fpA), long)
	if c, f, r := run(); c != 0 || f != 0 || r != 20 {
		t.Fatalf("after complete: %d claims, %d in flight, %d records", c, f, r)
	}
}

// testReplayRacesComplete: replays that arrive while the first request
// completes each see it in flight or get the record, never a claim.
func testReplayRacesComplete(t *testing.T, e env) {
	ctx := ctxT(t)
	mustClaim(t, e.store, "m1001", "k1", fpA, long)
	var wg, sawInFlight sync.WaitGroup
	sawInFlight.Add(20)
	for g := range 20 {
		s := []Store{e.store, e.peer}[g%2]
		wg.Go(func() {
			first := true
			for {
				rec, ok, err := s.Begin(ctx, "m1001", "k1", fpA, long)
				switch {
				case errors.Is(err, ErrInFlight):
					if first {
						sawInFlight.Done()
						first = false
					}
					continue
				case err == nil && !ok && rec != nil && rec.Status == 200:
					if first {
						t.Error("record before the first request completed")
						sawInFlight.Done()
					}
					return
				default:
					t.Errorf("replay: rec %v, ok %v, err %v", rec, ok, err)
					if first {
						sawInFlight.Done()
					}
					return
				}
			}
		})
	}
	sawInFlight.Wait()
	mustComplete(t, e.store, "m1001", "k1", okRecord(fpA), long)
	wg.Wait()
}

// testSharedByPeers: two stores on one state, as two edge processes.
func testSharedByPeers(t *testing.T, e env) {
	a, b := e.store, e.peer
	mustClaim(t, a, "m1001", "k1", fpA, long)
	_, _, err := begin(t, b, "m1001", "k1", fpA, long)
	wantErr(t, err, ErrInFlight)
	mustComplete(t, a, "m1001", "k1", okRecord(fpA), long)
	if got := mustReplay(t, b, "m1001", "k1", fpA); got.Status != 200 {
		t.Fatalf("peer replay %+v", got)
	}
	mustClaim(t, b, "m1001", "k2", fpA, long)
	if err := a.Abort(ctxT(t), "m1001", "k2"); err != nil {
		t.Fatal(err)
	}
	mustClaim(t, b, "m1001", "k2", fpA, long)
}

func testCanceledContext(t *testing.T, e env) {
	ctx, cancel := context.WithCancel(ctxT(t))
	cancel()
	if _, _, err := e.store.Begin(ctx, "m1001", "k1", fpA, long); err == nil {
		t.Fatal("begin with a canceled context")
	}
	// Nothing was claimed.
	mustClaim(t, e.store, "m1001", "k1", fpA, long)
	if err := e.store.Complete(ctx, "m1001", "k1", okRecord(fpA), long); err == nil {
		t.Fatal("complete with a canceled context")
	}
	if err := e.store.Abort(ctx, "m1001", "k1"); err == nil {
		t.Fatal("abort with a canceled context")
	}
}
