package logic

import (
	"context"
	"errors"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/bangbang-im/bangbang/core-im/auth"
	"github.com/bangbang-im/bangbang/core-im/router"
	"github.com/bangbang-im/bangbang/core-im/store"
	"github.com/bangbang-im/bangbang/gen/common"
	logicgen "github.com/bangbang-im/bangbang/gen/logic"
	"github.com/bangbang-im/bangbang/internal/netfault"
	"github.com/bangbang-im/bangbang/internal/pgtest"
	"github.com/bangbang-im/bangbang/tracing/metricstest"
)

// A gateway that does not answer while messages are acked: once it answers again, the
// device gets the newest of them by itself (and syncs the rest on the gap it sees), without
// waiting for a later message.
func TestFailedPushIsRetriedUntilTheGatewayAnswers(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, func(c *Config) { c.Metrics = m })
	f.connect(t, "bob", "phone", "c-bob")

	f.gw.setDown(true)
	var last *logicgen.SendResponse
	for i, text := range []string{"one", "two", "three"} {
		last = f.send(t, "alice", "laptop", "bob", "r-"+string(rune('a'+i)), text)
	}
	// Every first attempt failed before the node comes back.
	waitSeries(t, reg, `bangbang_logic_push_retries_total{result="scheduled"}`, 3)
	if n := f.gw.count("c-bob"); n != 0 {
		t.Fatalf("%d frames reached bob through a node that is down", n)
	}
	f.gw.setDown(false)

	pushes := f.gw.pushes(t, "c-bob", 1)
	got := pushes[len(pushes)-1].Messages[0]
	if got.MsgId != last.MsgId || string(got.Body) != "three" {
		t.Fatalf("retried push carries %q (seq %d), want the newest message %q", got.Body, got.Seq, "three")
	}
	waitSeries(t, reg, `bangbang_logic_push_retries_total{result="delivered"}`, 1)
	if n := len(f.gw.pushes(t, "c-bob", 1)); n != 1 {
		t.Fatalf("%d pushes after the retry, want the one", n)
	}
}

// waitSeries polls reg until series reaches want (the push path counts after it answers).
func waitSeries(t *testing.T, reg *prometheus.Registry, series string, want float64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := metricstest.Series(t, reg, series[:strings.IndexAny(series+"{", "{")])[series]
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s = %v after 10s, want %v", series, got, want)
		}
		time.Sleep(10 * time.Millisecond) // polling a counter, not synchronising
	}
}

func TestRetryDelayBacksOffToItsCap(t *testing.T) {
	for attempt, want := range map[int]time.Duration{1: 250 * time.Millisecond, 2: 500 * time.Millisecond, 3: time.Second, 5: 4 * time.Second, 50: 4 * time.Second} {
		if got := retryDelay(attempt); got != want {
			t.Errorf("retryDelay(%d) = %v, want %v", attempt, got, want)
		}
	}
}

// A push retried past PushRetryFor is given up (counted), and a full retry set refuses
// new users (counted): memory stays bounded whatever the outage.
func TestRedeliveryIsBounded(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	requeued := make(chan pushJob, 8)
	r := newRedelivery(func(_ context.Context, j pushJob) error { requeued <- j; return nil }, time.Minute, 2, m, slog.New(slog.DiscardHandler))
	defer r.stop()
	clock := time.Now()
	r.mu.Lock()
	r.now = func() time.Time { return clock }
	r.mu.Unlock()
	msg := func(seq int64) *common.Message { return &common.Message{Seq: seq} }

	r.add(pushJob{user: "a", msg: msg(1)})
	r.add(pushJob{user: "a", msg: msg(2), skipDevice: "phone"}) // merged: the newest, to every device
	r.add(pushJob{user: "b", msg: msg(1)})
	r.add(pushJob{user: "c", msg: msg(1)}) // the set holds two users
	r.add(pushJob{user: "d", receipt: &receipt{}})
	old := retryState{attempt: 9, since: clock.Add(-2 * time.Minute)}
	r.add(pushJob{user: "e", msg: msg(1), retry: &old})

	metricstest.Want(t, reg, map[string]float64{
		`bangbang_logic_push_retries_total{result="scheduled"}`: 3,
		`bangbang_logic_push_retries_total{result="overflow"}`:  1,
		`bangbang_logic_push_retries_total{result="abandoned"}`: 1,
		`bangbang_logic_push_retry_pending{}`:                   2,
	})
	r.mu.Lock()
	clock = clock.Add(time.Second) // both due
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default: // a wake is already pending
	}
	got := map[string]pushJob{}
	for len(got) < 2 {
		select {
		case j := <-requeued:
			got[j.user] = j
		case <-time.After(5 * time.Second):
			t.Fatalf("requeued %d of 2 due retries", len(got))
		}
	}
	if a := got["a"]; a.msg.Seq != 2 || a.skipDevice != "" || a.retry == nil || a.retry.attempt != 1 {
		t.Fatalf("user a retried as seq %d skip %q retry %+v; want seq 2 to every device, attempt 1", a.msg.Seq, a.skipDevice, a.retry)
	}
}

// Dependency failures a retry may cure reach the caller as UNAVAILABLE, temporary: the
// message store cut off (PostgreSQL through a relay the test cuts), the route table cut
// off (Redis through another). Both come back without a restart of logic.
func TestDependencyOutagesAreTemporary(t *testing.T) {
	ctx := context.Background()
	pgURL := pgtest.SchemaURL(t, "logic")
	pgLink, redisLink := netfault.New(t, hostOf(t, pgURL)), netfault.New(t, redisAddr())
	st, err := store.OpenPostgres(ctx, withHost(t, pgURL, pgLink.Addr()), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rc := redis.NewClient(&redis.Options{Addr: redisLink.Addr(), MaxRetries: -1, DialTimeout: time.Second})
	defer rc.Close()
	rt := router.NewRedis(rc, router.RedisOptions{Prefix: "bbtest:logic:" + uuid.NewString() + ":"})
	defer rt.Close()
	gw := newRecorder()
	svc := New(Config{}, st, rt, gw, nil)
	defer svc.Close()
	hash, err := auth.HashPassword("secret")
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"alice", "bob"} {
		if err := st.PutUser(ctx, store.User{ID: u, Kind: "merchant", PasswordHash: hash}); err != nil {
			t.Fatal(err)
		}
	}
	send := func(id string) error {
		_, err := svc.Send(ctx, &logicgen.SendRequest{UserId: "alice", DeviceId: "d", ClientMsgId: id, ToUser: "bob", Body: []byte(id)})
		return err
	}
	connect := func() error {
		_, err := svc.Connect(ctx, &logicgen.ConnectRequest{UserId: "bob", DeviceId: "phone", Node: "n1", ConnId: "c-bob", Platform: "ios"})
		return err
	}
	if err := send("before"); err != nil {
		t.Fatal(err)
	}

	pgLink.Cut()
	wantTemporary(t, "send with the store cut off", send("during"))
	pgLink.Restore()
	eventually(t, "send after the store is back", func() error { return send("during") })

	redisLink.Cut()
	wantTemporary(t, "connect with the route table cut off", connect())
	redisLink.Restore()
	eventually(t, "connect after the route table is back", connect)
}

func wantTemporary(t *testing.T, what string, err error) {
	t.Helper()
	var ime *common.IMError
	if err == nil || Code(err) != common.ErrorCode_UNAVAILABLE || !errors.As(err, &ime) || !ime.Temporary {
		t.Fatalf("%s: %v, want UNAVAILABLE, temporary", what, err)
	}
}

// eventually retries call until it succeeds: the pool reconnects on its own schedule.
func eventually(t *testing.T, what string, call func() error) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		err := call()
		if err == nil {
			return
		}
		if Code(err) != common.ErrorCode_UNAVAILABLE || time.Now().After(deadline) {
			t.Fatalf("%s: %v", what, err)
		}
		time.Sleep(50 * time.Millisecond) // polling the recovery, not synchronising
	}
}

func redisAddr() string {
	if a := os.Getenv("BANGBANG_TEST_REDIS_ADDR"); a != "" {
		return a
	}
	return "127.0.0.1:6379"
}

func hostOf(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}

func withHost(t *testing.T, raw, host string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	u.Host = host
	return u.String()
}
