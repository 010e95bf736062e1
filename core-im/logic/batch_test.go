package logic

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/bangbang-im/bangbang/core-im/auth"
	"github.com/bangbang-im/bangbang/core-im/store"
	"github.com/bangbang-im/bangbang/gen/common"
	logicgen "github.com/bangbang-im/bangbang/gen/logic"
	"github.com/bangbang-im/bangbang/tracing/metricstest"
)

// wantBadRequest checks err is a BAD_REQUEST whose message names what (an item's index).
func wantBadRequest(t *testing.T, err error, what string) {
	t.Helper()
	wantCode(t, err, common.ErrorCode_BAD_REQUEST)
	if !strings.Contains(err.Error(), what) {
		t.Fatalf("error %q does not name %s", err, what)
	}
}

func marketing(users []string, bodies ...string) *logicgen.PushRequest {
	req := &logicgen.PushRequest{From: "campaign:7", Users: users, Kind: int32(common.MessageKind_MARKETING), DedupKey: "campaign-7"}
	for _, b := range bodies {
		req.Bodies = append(req.Bodies, []byte(b))
	}
	return req
}

func TestPushToUsersBodyPerUser(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.connect(t, "bob", "phone", "b1")
	f.send(t, "bob", "phone", "alice", "1", "hi") // alice's inbox seq 1: her push is seq 2, conv seq 1
	resp, err := f.svc.PushToUsers(ctx, marketing([]string{"alice", "bob"}, "Dear Alice, 20% off", "Dear Bob, 30% off"))
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []struct {
		user, body   string
		seq, convSeq int64
	}{{"alice", "Dear Alice, 20% off", 2, 1}, {"bob", "Dear Bob, 30% off", 2, 1}} {
		r := resp.Results[i]
		if r.UserId != want.user || r.ErrorCode != 0 || r.Duplicate || r.Seq != want.seq || r.ConvSeq != want.convSeq {
			t.Fatalf("%s: %+v, want seq %d conv seq %d", want.user, r, want.seq, want.convSeq)
		}
		sync, err := f.svc.Sync(ctx, &logicgen.SyncRequest{UserId: want.user, AfterSeq: want.seq - 1})
		if err != nil || len(sync.Messages) != 1 {
			t.Fatalf("sync %s: %+v, %v", want.user, sync, err)
		}
		m := sync.Messages[0]
		if string(m.Body) != want.body || m.MsgId != r.MsgId || m.Seq != r.Seq || m.ConvSeq != r.ConvSeq || m.ConvId != "s:"+want.user {
			t.Fatalf("%s's stored message %+v does not match the status %+v and body %q", want.user, m, r, want.body)
		}
	}
	// bob's device got his own body (his send to alice skipped the sending device).
	if p := f.gw.pushes(t, "b1", 1); string(p[0].Messages[0].Body) != "Dear Bob, 30% off" {
		t.Fatalf("bob's device got %q", p[0].Messages[0].Body)
	}
}

// A repeated push (a restarted campaign) reports the first message's id, inbox seq and
// conversation seq, although other messages came in between and its bodies differ.
func TestPushToUsersDuplicateKeepsOriginalSeqs(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	first, err := f.svc.PushToUsers(ctx, marketing([]string{"alice", "bob"}, "a1", "b1"))
	if err != nil {
		t.Fatal(err)
	}
	// Move both counters of both users on.
	if _, err := f.svc.PushToUsers(ctx, &logicgen.PushRequest{Users: []string{"alice", "bob"},
		Kind: int32(common.MessageKind_SYSTEM), Body: []byte("notice")}); err != nil {
		t.Fatal(err)
	}
	again, err := f.svc.PushToUsers(ctx, marketing([]string{"bob", "alice"}, "b2", "a2"))
	if err != nil {
		t.Fatal(err)
	}
	byUser := map[string]*logicgen.PushStatus{}
	for _, r := range first.Results {
		byUser[r.UserId] = r
	}
	for _, r := range again.Results {
		want := byUser[r.UserId]
		if r.ErrorCode != 0 || !r.Duplicate || r.MsgId != want.MsgId || r.Seq != want.Seq || r.ConvSeq != want.ConvSeq || r.Seq != 1 || r.ConvSeq != 1 {
			t.Fatalf("repeat for %s: %+v, want the first %+v", r.UserId, r, want)
		}
	}
}

func TestPushToUsersBodiesRefusals(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name, what string
		req        *logicgen.PushRequest
	}{
		{"neither body nor bodies", "body", marketing([]string{"alice"})},
		{"fewer bodies than users", "2 bodies for 3 users", marketing([]string{"alice", "bob", "carol"}, "a", "b")},
		{"more bodies than users", "2 bodies for 1 users", marketing([]string{"alice"}, "a", "b")},
		{"an empty body", "bodies[1]", marketing([]string{"alice", "bob"}, "a", "")},
		{"a huge body", "bodies[0]", marketing([]string{"alice", "bob"}, strings.Repeat("x", MaxBodyBytes+1), "b")},
		{"body and bodies", "exclusive", func() *logicgen.PushRequest {
			r := marketing([]string{"alice"}, "a")
			r.Body = []byte("shared")
			return r
		}()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.svc.PushToUsers(ctx, tc.req)
			wantBadRequest(t, err, tc.what)
		})
	}
	for _, u := range []string{"alice", "bob", "carol"} {
		if n, err := f.store.MaxSeq(ctx, u); err != nil || n != 0 {
			t.Fatalf("refused pushes stored something for %s: max seq %d, %v", u, n, err)
		}
	}
	// The largest body is accepted, per user as for all.
	resp, err := f.svc.PushToUsers(ctx, marketing([]string{"alice"}, strings.Repeat("x", MaxBodyBytes)))
	if err != nil || resp.Results[0].ErrorCode != 0 {
		t.Fatalf("push of a MaxBodyBytes body: %+v, %v", resp, err)
	}
}

func TestReceipts(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.send(t, "alice", "phone", "bob", "1", "hi") // bob's inbox seq 1
	push, err := f.svc.PushToUsers(ctx, marketing([]string{"bob", "carol"}, "for bob", "for carol"))
	if err != nil {
		t.Fatal(err)
	}
	bob := push.Results[0] // inbox seq 2, conv seq 1
	// bob's phone acks the campaign message, his tablet only the chat; he reads it.
	for _, a := range []struct {
		device string
		seq    int64
	}{{"phone", bob.Seq}, {"tablet", 1}} {
		if _, err := f.svc.Ack(ctx, &logicgen.AckRequest{UserId: "bob", DeviceId: a.device, Seq: a.seq}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.svc.Read(ctx, &logicgen.ReadRequest{UserId: "bob", ConvId: "s:bob", ConvSeq: bob.ConvSeq}); err != nil {
		t.Fatal(err)
	}
	resp, err := f.svc.Receipts(ctx, &logicgen.ReceiptsRequest{Items: []*logicgen.ReceiptQuery{
		{UserId: "bob", ConvId: "s:bob"},
		{UserId: "carol", ConvId: "s:carol"}, // pushed, offline: neither
		{UserId: "bob", ConvId: "p:alice|bob"},
		{UserId: "nobody", ConvId: "s:nobody"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	want := []logicgen.Receipt{
		{UserId: "bob", ConvId: "s:bob", DeliveredSeq: 2, ReadSeq: 1},
		{UserId: "carol", ConvId: "s:carol"},
		{UserId: "bob", ConvId: "p:alice|bob", DeliveredSeq: 2},
		{UserId: "nobody", ConvId: "s:nobody"},
	}
	if len(resp.Results) != len(want) {
		t.Fatalf("%d results for %d items", len(resp.Results), len(want))
	}
	for i, r := range resp.Results {
		if *r != want[i] {
			t.Errorf("result %d = %+v, want %+v", i, r, want[i])
		}
	}
	// What a campaign concludes for bob's message.
	if r := resp.Results[0]; r.DeliveredSeq < bob.Seq || r.ReadSeq < bob.ConvSeq {
		t.Errorf("bob's message reads as not delivered or not read: %+v for %+v", r, bob)
	}

	many := make([]*logicgen.ReceiptQuery, MaxBatchItems+1)
	for i := range many {
		many[i] = &logicgen.ReceiptQuery{UserId: "bob", ConvId: "s:bob"}
	}
	for _, tc := range []struct {
		name, what string
		items      []*logicgen.ReceiptQuery
	}{
		{"no items", "items", nil},
		{"too many items", "items", many},
		{"a missing item", "items[1]", []*logicgen.ReceiptQuery{{UserId: "bob", ConvId: "s:bob"}, nil}},
		{"no user", "items[0]", []*logicgen.ReceiptQuery{{ConvId: "s:bob"}}},
		{"a long user", "items[0]", []*logicgen.ReceiptQuery{{UserId: strings.Repeat("u", MaxIDBytes+1), ConvId: "s:bob"}}},
		{"no conversation", "items[1]", []*logicgen.ReceiptQuery{{UserId: "bob", ConvId: "s:bob"}, {UserId: "bob"}}},
		{"a long conversation", "items[0]", []*logicgen.ReceiptQuery{{UserId: "bob", ConvId: strings.Repeat("c", store.MaxIDBytes+1)}}},
		// Refused by the store, which names the index too.
		{"a NUL in a conversation", "[1]", []*logicgen.ReceiptQuery{{UserId: "bob", ConvId: "s:bob"}, {UserId: "bob", ConvId: "s:\x00"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.svc.Receipts(ctx, &logicgen.ReceiptsRequest{Items: tc.items})
			wantBadRequest(t, err, tc.what)
		})
	}
}

func TestEnsureUsers(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	req := &logicgen.EnsureUsersRequest{Users: []*logicgen.UserInfo{
		{UserId: "alice", Kind: "customer", DisplayName: "Alice Imported"}, // exists: untouched
		{UserId: "dave", Kind: "merchant", DisplayName: "Dave's Flats"},
		{UserId: "erin", Kind: "customer", DisplayName: "Erin"},
		{UserId: "dave", Kind: "customer", DisplayName: "Dave again"}, // repeated: the first wins
	}}
	resp, err := f.svc.EnsureUsers(ctx, req)
	if err != nil || resp.Created != 2 {
		t.Fatalf("ensure users: %+v, %v; want 2 created", resp, err)
	}
	if again, err := f.svc.EnsureUsers(ctx, req); err != nil || again.Created != 0 {
		t.Fatalf("the same import again: %+v, %v; want 0 created", again, err)
	}
	// alice keeps her password and kind.
	a, err := f.svc.Authenticate(ctx, &logicgen.AuthenticateRequest{UserId: "alice", Password: "secret"})
	if err != nil || a.Kind != "merchant" || a.DisplayName != "" {
		t.Fatalf("alice after the import: %+v, %v", a, err)
	}
	dave, err := f.store.GetUser(ctx, "dave")
	if err != nil || dave.Kind != store.UserMerchant || dave.DisplayName != "Dave's Flats" || len(dave.PasswordHash) != 0 {
		t.Fatalf("dave = %+v, %v; want a merchant with no password hash", dave, err)
	}
	// No password opens an account created without one, and the answer is the one a wrong
	// password gets, so a caller cannot tell imported accounts apart.
	if err := auth.CheckPassword(nil, "secret"); !errors.Is(err, auth.ErrBadCredentials) {
		t.Fatalf("CheckPassword with an empty hash: %v, want ErrBadCredentials", err)
	}
	_, wrong := f.svc.Authenticate(ctx, &logicgen.AuthenticateRequest{UserId: "alice", Password: "wrong"})
	for _, pw := range []string{"secret", "", "x", strings.Repeat("p", auth.MaxPasswordBytes)} {
		_, err := f.svc.Authenticate(ctx, &logicgen.AuthenticateRequest{UserId: "dave", Password: pw})
		wantCode(t, err, common.ErrorCode_UNAUTHENTICATED)
		if err.Error() != wrong.Error() {
			t.Fatalf("dave with password %q: %q, a wrong password gets %q", pw, err, wrong)
		}
	}
	// A campaign reaches the new account.
	push, err := f.svc.PushToUsers(ctx, marketing([]string{"dave", "erin"}, "d", "e"))
	if err != nil || push.Results[0].ErrorCode != 0 || push.Results[1].ErrorCode != 0 {
		t.Fatalf("push to imported users: %+v, %v", push, err)
	}
}

func TestEnsureUsersRefusals(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	good := &logicgen.UserInfo{UserId: "fresh", Kind: "merchant", DisplayName: "Fresh"}
	many := make([]*logicgen.UserInfo, MaxBatchItems+1)
	for i := range many {
		many[i] = good
	}
	for _, tc := range []struct {
		name, what string
		users      []*logicgen.UserInfo
	}{
		{"no users", "users", nil},
		{"too many users", "users", many},
		{"a missing entry", "users[1]", []*logicgen.UserInfo{good, nil}},
		{"no id", "users[1]", []*logicgen.UserInfo{good, {Kind: "merchant", DisplayName: "x"}}},
		{"a long id", "users[1]", []*logicgen.UserInfo{good, {UserId: strings.Repeat("u", MaxIDBytes+1), Kind: "merchant", DisplayName: "x"}}},
		{"staff", "users[1]", []*logicgen.UserInfo{good, {UserId: "x", Kind: "staff", DisplayName: "x"}}},
		{"no kind", "users[2]", []*logicgen.UserInfo{good, good, {UserId: "x", DisplayName: "x"}}},
		{"no display name", "users[1]", []*logicgen.UserInfo{good, {UserId: "x", Kind: "customer"}}},
		{"a long display name", "users[1]", []*logicgen.UserInfo{good, {UserId: "x", Kind: "customer", DisplayName: strings.Repeat("n", store.MaxDisplayNameBytes+1)}}},
		// Refused by the store, which names the index too.
		{"a display name not UTF-8", "users[1]", []*logicgen.UserInfo{good, {UserId: "x", Kind: "customer", DisplayName: "\xb5\xd8\xb2\xfa"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.svc.EnsureUsers(ctx, &logicgen.EnsureUsersRequest{Users: tc.users})
			wantBadRequest(t, err, tc.what)
		})
	}
	for _, id := range []string{"fresh", "x"} {
		if _, err := f.store.GetUser(ctx, id); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("a refused call stored %s: %v", id, err)
		}
	}
}

// The batch calls get a span and a latency series like every other call.
func TestBatchCallsObserved(t *testing.T) {
	f := newFixture(t)
	reg := prometheus.NewRegistry()
	m, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	svc := New(Config{Metrics: m, TracerProvider: tp}, f.store, f.routes, f.gw, nil)
	t.Cleanup(svc.Close)

	ctx, parent := tp.Tracer("test").Start(context.Background(), "campaign batch")
	if _, err := svc.EnsureUsers(ctx, &logicgen.EnsureUsersRequest{Users: []*logicgen.UserInfo{{UserId: "dave", Kind: "merchant", DisplayName: "Dave"}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Receipts(ctx, &logicgen.ReceiptsRequest{Items: []*logicgen.ReceiptQuery{{UserId: "dave", ConvId: "s:dave"}}}); err != nil {
		t.Fatal(err)
	}
	_, err = svc.Receipts(ctx, &logicgen.ReceiptsRequest{})
	wantCode(t, err, common.ErrorCode_BAD_REQUEST)
	parent.End()

	metricstest.Want(t, reg, map[string]float64{
		`bangbang_logic_call_duration_seconds{method="EnsureUsers",outcome="ok"}`:       1,
		`bangbang_logic_call_duration_seconds{method="Receipts",outcome="ok"}`:          1,
		`bangbang_logic_call_duration_seconds{method="Receipts",outcome="BAD_REQUEST"}`: 1,
	})
	spans := map[string]int{}
	for _, sp := range rec.Ended() {
		if sp.Parent().SpanID() == parent.SpanContext().SpanID() {
			spans[sp.Name()]++
		}
	}
	if spans["logic.EnsureUsers"] != 1 || spans["logic.Receipts"] != 2 {
		t.Fatalf("spans under the batch: %v, want logic.EnsureUsers once and logic.Receipts twice", spans)
	}
}

// One read checks a push's users: an unknown one is NOT_FOUND, an invalid id BAD_REQUEST;
// when that read fails because the store is going away, every user is told UNAVAILABLE
// (a retry may cure it) and nothing is stored.
func TestPushToUsersChecksUsersAtOnce(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	resp, err := f.svc.PushToUsers(ctx, marketing([]string{"alice", "nobody", "bad\x00id", "bob"}, "a", "n", "x", "b"))
	if err != nil {
		t.Fatal(err)
	}
	want := []common.ErrorCode{0, common.ErrorCode_NOT_FOUND, common.ErrorCode_BAD_REQUEST, 0}
	for i, r := range resp.Results {
		if common.ErrorCode(r.ErrorCode) != want[i] || (want[i] == 0) != (r.MsgId != "") {
			t.Fatalf("result %d: %+v, want code %v", i, r, want[i])
		}
	}
	if err := f.store.Close(); err != nil {
		t.Fatal(err)
	}
	resp, err = f.svc.PushToUsers(ctx, marketing([]string{"carol", "bad\x00id"}, "c", "x"))
	if err != nil {
		t.Fatal(err)
	}
	if c := common.ErrorCode(resp.Results[0].ErrorCode); c != common.ErrorCode_UNAVAILABLE {
		t.Fatalf("carol with the store closed: %v, want UNAVAILABLE", c)
	}
	if c := common.ErrorCode(resp.Results[1].ErrorCode); c != common.ErrorCode_BAD_REQUEST {
		t.Fatalf("an invalid id with the store closed: %v, want BAD_REQUEST", c)
	}
}
