package store

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

// runContract checks the behaviour every Store implementation promises.
func runContract(t *testing.T, b backend) {
	tests := []struct {
		name string
		run  func(t *testing.T, b backend)
	}{
		{"AppendAndSync", testAppendAndSync},
		{"SeqsUnderConcurrency", testSeqsUnderConcurrency},
		{"DedupSequential", testDedupSequential},
		{"DedupConcurrent", testDedupConcurrent},
		{"DedupWithinOneBatch", testDedupWithinOneBatch},
		{"DedupSystemKeepsOriginalSeqs", testDedupSystemKeepsOriginalSeqs},
		{"QueuedAppendsKeepQueueOrder", testQueuedAppendsKeepOrder},
		{"FailingRequestFailsAlone", testFailingRequestFailsAlone},
		{"AppendBatch", testAppendBatch},
		{"AppendBatchesKeepTheirOrder", testAppendBatchesKeepTheirOrder},
		{"MarksShareTheBatch", testMarksShareTheBatch},
		{"SyncPaging", testSyncPaging},
		{"AcksMonotonic", testAcksMonotonic},
		{"ReadMarksMonotonic", testReadMarksMonotonic},
		{"AcksNeverPassTheInbox", testAcksBounded},
		{"ReadMarksNeverPassTheConversation", testReadMarksBounded},
		{"MarksBoundedUnderConcurrentAppends", testMarksBoundedConcurrent},
		{"MarksStoredPastTheEndReadCapped", testMarksPlantedPastEnd},
		{"Users", testUsers},
		{"Receipts", testReceipts},
		{"PutUsersIfAbsent", testPutUsersIfAbsent},
		{"MissingUsers", testMissingUsers},
		{"TokenRevocations", testTokenRevocations},
		{"PutUsersIfAbsentConcurrent", testPutUsersIfAbsentConcurrent},
		{"InvalidInputStoresNothing", testInvalidInput},
		{"ContextCancelled", testContextCancelled},
		{"ContextCancelledWhileQueued", testContextCancelledWhileQueued},
		{"CloseFailsQueuedAndLaterCalls", testClose},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, b) })
	}
}

func testAppendAndSync(t *testing.T, b backend) {
	s := b.open(t, Options{})
	sentAt := time.Date(2025, 3, 4, 5, 6, 7, 123456789, time.FixedZone("X", 3600))
	m := chat("m1001", "c1001", "k1")
	m.Recipients = []string{"m1001", "c1001", "m1001"}
	m.SentAt = sentAt
	m.Body = []byte{0, 1, 2, 0xff}
	a, err := s.Append(t.Context(), m)
	if err != nil {
		t.Fatal(err)
	}
	id, err := uuid.Parse(a.Message.ID)
	if err != nil || id.Version() != 7 {
		t.Errorf("message id %q is not a UUIDv7 (%v)", a.Message.ID, err)
	}
	want := Message{
		ID: a.Message.ID, ConvID: m.ConvID, ConvSeq: 1, From: "m1001", To: "c1001", ClientMsgID: "k1",
		Kind: KindChat, ContentType: "text/plain", Body: m.Body,
		SentAt: time.Date(2025, 3, 4, 4, 6, 7, 123000000, time.UTC),
	}
	assertMessage(t, "appended", a.Message, want)
	wantInbox := []InboxEntry{{"c1001", 1}, {"m1001", 1}}
	if !slices.Equal(a.Inbox, wantInbox) || a.Duplicate {
		t.Errorf("appended inbox %v duplicate %v, want %v false", a.Inbox, a.Duplicate, wantInbox)
	}
	for _, u := range []string{"m1001", "c1001"} {
		got, more, err := s.Sync(t.Context(), u, 0, 10)
		if err != nil || more || len(got) != 1 || got[0].Seq != 1 {
			t.Fatalf("sync %s = %v more %v err %v, want one message at seq 1", u, got, more, err)
		}
		assertMessage(t, "synced", got[0].Message, want)
	}

	// A system message with no sender is stored as sent by "system".
	sys, err := s.Append(t.Context(), system("m1001"))
	if err != nil {
		t.Fatal(err)
	}
	if sys.Message.From != SystemSender || sys.Message.ConvSeq != 1 || !slices.Equal(sys.Inbox, []InboxEntry{{"m1001", 2}}) {
		t.Errorf("system message = %+v inbox %v", sys.Message, sys.Inbox)
	}
	if n, err := s.MaxSeq(t.Context(), "m1001"); err != nil || n != 2 {
		t.Errorf("max seq m1001 = %d, %v; want 2", n, err)
	}
	if n, err := s.MaxSeq(t.Context(), "nobody"); err != nil || n != 0 {
		t.Errorf("max seq of an empty inbox = %d, %v; want 0", n, err)
	}
	got, more, err := s.Sync(t.Context(), "nobody", 0, 10)
	if err != nil || more || len(got) != 0 {
		t.Errorf("sync of an empty inbox = %v, %v, %v", got, more, err)
	}
}

func assertMessage(t *testing.T, what string, got, want Message) {
	t.Helper()
	if !bytes.Equal(got.Body, want.Body) {
		t.Errorf("%s body = %x, want %x", what, got.Body, want.Body)
	}
	if !got.SentAt.Equal(want.SentAt) || got.SentAt.Location() != time.UTC {
		t.Errorf("%s sent at = %v, want %v in UTC", what, got.SentAt, want.SentAt)
	}
	if got.ID != want.ID || got.ConvID != want.ConvID || got.ConvSeq != want.ConvSeq || got.From != want.From ||
		got.To != want.To || got.ClientMsgID != want.ClientMsgID || got.Kind != want.Kind || got.ContentType != want.ContentType {
		t.Errorf("%s message = %+v, want %+v", what, got, want)
	}
}

func testSyncPaging(t *testing.T, b backend) {
	s := b.open(t, Options{})
	var ids []string
	for i := range 25 {
		a, err := s.Append(t.Context(), chat("m1", "c1", fmt.Sprint(i)))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, a.Message.ID)
	}
	after := int64(0)
	for _, page := range []struct {
		n    int
		more bool
	}{{10, true}, {10, true}, {5, false}} {
		got, more, err := s.Sync(t.Context(), "c1", after, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != page.n || more != page.more {
			t.Fatalf("sync after %d: %d messages more=%v, want %d more=%v", after, len(got), more, page.n, page.more)
		}
		for i, im := range got {
			if im.Seq != after+int64(i)+1 || im.Message.ID != ids[im.Seq-1] {
				t.Fatalf("sync after %d: entry %d is seq %d id %s", after, i, im.Seq, im.Message.ID)
			}
		}
		after = got[len(got)-1].Seq
	}
	got, more, err := s.Sync(t.Context(), "c1", 25, 10)
	if err != nil || len(got) != 0 || more {
		t.Errorf("sync after the last seq = %d messages more=%v err=%v", len(got), more, err)
	}
	// Exactly limit left: no more.
	got, more, err = s.Sync(t.Context(), "c1", 15, 10)
	if err != nil || len(got) != 10 || more {
		t.Errorf("sync of the last 10 with limit 10 = %d messages more=%v err=%v", len(got), more, err)
	}
	// A limit above MaxSyncLimit is lowered, not refused.
	got, _, err = s.Sync(t.Context(), "c1", 0, MaxSyncLimit+1)
	if err != nil || len(got) != 25 {
		t.Errorf("sync with a large limit = %d messages, %v", len(got), err)
	}
}

func testAcksMonotonic(t *testing.T, b backend) {
	s := b.open(t, Options{})
	ctx := t.Context()
	appendN(t, s, 9, system("m1"))
	if got, err := s.DeliveredSeq(ctx, "m1", "phone"); err != nil || got != 0 {
		t.Fatalf("delivered seq before any ack = %d, %v", got, err)
	}
	for _, step := range []struct{ ack, want int64 }{{5, 5}, {3, 5}, {5, 5}, {9, 9}, {0, 9}} {
		got, err := s.AckDelivered(ctx, "m1", "phone", step.ack)
		if err != nil || got != step.want {
			t.Fatalf("ack %d = %d, %v; want %d", step.ack, got, err, step.want)
		}
	}
	if got, _ := s.DeliveredSeq(ctx, "m1", "phone"); got != 9 {
		t.Errorf("delivered seq = %d, want 9", got)
	}
	// Devices and users are independent.
	if got, _ := s.AckDelivered(ctx, "m1", "tablet", 2); got != 2 {
		t.Errorf("tablet ack = %d, want 2", got)
	}
	if got, _ := s.DeliveredSeq(ctx, "m2", "phone"); got != 0 {
		t.Errorf("other user's delivered seq = %d, want 0", got)
	}
	if got, _ := s.DeliveredSeq(ctx, "m1", "phone"); got != 9 {
		t.Errorf("phone delivered seq after tablet ack = %d, want 9", got)
	}
}

func testReadMarksMonotonic(t *testing.T, b backend) {
	s := b.open(t, Options{})
	ctx := t.Context()
	conv := convOf("m1", "c1")
	if got, err := s.ReadSeq(ctx, "m1", conv); err != nil || got != 0 {
		t.Fatalf("read seq before any mark = %d, %v", got, err)
	}
	appendN(t, s, 10, chat("m1", "c1", ""))
	for _, step := range []struct{ mark, want int64 }{{4, 4}, {2, 4}, {10, 10}, {10, 10}} {
		got, err := s.MarkRead(ctx, "m1", conv, step.mark)
		if err != nil || got != step.want {
			t.Fatalf("mark %d = %d, %v; want %d", step.mark, got, err, step.want)
		}
	}
	if got, _ := s.ReadSeq(ctx, "m1", conv); got != 10 {
		t.Errorf("read seq = %d, want 10", got)
	}
	if got, _ := s.ReadSeq(ctx, "c1", conv); got != 0 {
		t.Errorf("peer's read seq = %d, want 0", got)
	}
	if got, _ := s.ReadSeq(ctx, "m1", "s:m1"); got != 0 {
		t.Errorf("other conversation's read seq = %d, want 0", got)
	}
}

func testUsers(t *testing.T, b backend) {
	s := b.open(t, Options{})
	ctx := t.Context()
	if _, err := s.GetUser(ctx, "m1001"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("get missing user: %v, want ErrNotFound", err)
	}
	created := time.Date(2024, 1, 2, 3, 4, 5, 678901234, time.UTC)
	u := User{ID: "m1001", Kind: UserMerchant, DisplayName: "Sunny Homes 地产", PasswordHash: []byte("$2a$10$hash"), CreatedAt: created}
	ok, err := s.PutUserIfAbsent(ctx, u)
	if err != nil || !ok {
		t.Fatalf("put user if absent = %v, %v; want created", ok, err)
	}
	again := u
	again.DisplayName = "other"
	ok, err = s.PutUserIfAbsent(ctx, again)
	if err != nil || ok {
		t.Fatalf("second put user if absent = %v, %v; want not created", ok, err)
	}
	got, err := s.GetUser(ctx, "m1001")
	if err != nil {
		t.Fatal(err)
	}
	want := u
	want.CreatedAt = created.Truncate(time.Millisecond)
	assertUser(t, got, want)

	updated := User{ID: "m1001", Kind: UserStaff, DisplayName: "Renamed", PasswordHash: []byte("new"), CreatedAt: created}
	if err := s.PutUser(ctx, updated); err != nil {
		t.Fatal(err)
	}
	got, err = s.GetUser(ctx, "m1001")
	if err != nil {
		t.Fatal(err)
	}
	updated.CreatedAt = want.CreatedAt
	assertUser(t, got, updated)

	before := time.Now().Add(-time.Second)
	if err := s.PutUser(ctx, User{ID: "c1001", Kind: UserCustomer}); err != nil {
		t.Fatal(err)
	}
	got, err = s.GetUser(ctx, "c1001")
	if err != nil {
		t.Fatal(err)
	}
	if got.CreatedAt.Before(before) || got.CreatedAt.After(time.Now()) {
		t.Errorf("zero CreatedAt stored as %v, want about now", got.CreatedAt)
	}
}

func assertUser(t *testing.T, got, want User) {
	t.Helper()
	if got.ID != want.ID || got.Kind != want.Kind || got.DisplayName != want.DisplayName ||
		!bytes.Equal(got.PasswordHash, want.PasswordHash) || !got.CreatedAt.Equal(want.CreatedAt) {
		t.Errorf("user = %+v, want %+v", got, want)
	}
}

func testInvalidInput(t *testing.T, b backend) {
	s := b.open(t, Options{})
	ctx := t.Context()
	long := strings.Repeat("x", MaxIDBytes+1)
	msg := func(change func(m *NewMessage)) NewMessage {
		m := chat("victim", "peer", "")
		change(&m)
		return m
	}
	appends := []struct {
		field string
		m     NewMessage
	}{
		{"ConvID", msg(func(m *NewMessage) { m.ConvID = "" })},
		{"ConvID", msg(func(m *NewMessage) { m.ConvID = long })},
		{"From", msg(func(m *NewMessage) { m.From = "" })},
		{"From", msg(func(m *NewMessage) { m.From = "bad\x00id" })},
		{"To", msg(func(m *NewMessage) { m.To = long })},
		{"Recipients", msg(func(m *NewMessage) { m.Recipients = nil })},
		{"Recipients[1]", msg(func(m *NewMessage) { m.Recipients = []string{"victim", ""} })},
		{"Recipients[0]", msg(func(m *NewMessage) { m.Recipients = []string{"\xff\xfe", "victim"} })},
		{"Recipients", msg(func(m *NewMessage) { m.Recipients = make([]string, MaxRecipients+1) })},
		{"ClientMsgID", msg(func(m *NewMessage) { m.ClientMsgID = long })},
		{"Kind", msg(func(m *NewMessage) { m.Kind = 0 })},
		{"Kind", msg(func(m *NewMessage) { m.Kind = 9 })},
		{"ContentType", msg(func(m *NewMessage) { m.ContentType = strings.Repeat("t", MaxContentTypeBytes+1) })},
		{"Body", msg(func(m *NewMessage) { m.Body = make([]byte, MaxBodyBytes+1) })},
		{"SentAt", msg(func(m *NewMessage) { m.SentAt = time.Time{} })},
	}
	for _, tc := range appends {
		_, err := s.Append(ctx, tc.m)
		var ie *InvalidError
		if !errors.Is(err, ErrInvalid) || !errors.As(err, &ie) || ie.Field != tc.field {
			t.Errorf("append with bad %s: error %v, want ErrInvalid on that field", tc.field, err)
		}
	}
	// The largest valid body is accepted.
	if _, err := s.Append(ctx, msg(func(m *NewMessage) { m.Recipients = []string{"other"}; m.Body = make([]byte, MaxBodyBytes) })); err != nil {
		t.Errorf("append with a body of MaxBodyBytes: %v", err)
	}
	for _, u := range []string{"victim", "peer"} {
		if n, err := s.MaxSeq(ctx, u); err != nil || n != 0 {
			t.Errorf("after rejected appends %s's inbox has max seq %d (%v), want 0", u, n, err)
		}
	}

	others := map[string]error{}
	_, _, others["sync limit 0"] = s.Sync(ctx, "victim", 0, 0)
	_, _, others["sync negative after"] = s.Sync(ctx, "victim", -1, 10)
	_, _, others["sync empty user"] = s.Sync(ctx, "", 0, 10)
	_, others["max seq long user"] = s.MaxSeq(ctx, long)
	_, others["ack negative"] = s.AckDelivered(ctx, "victim", "phone", -1)
	_, others["ack empty device"] = s.AckDelivered(ctx, "victim", "", 1)
	_, others["delivered empty user"] = s.DeliveredSeq(ctx, "", "phone")
	_, others["mark negative"] = s.MarkRead(ctx, "victim", "p:x", -1)
	_, others["read empty conv"] = s.ReadSeq(ctx, "victim", "")
	others["put user kind"] = s.PutUser(ctx, User{ID: "victim", Kind: "robot"})
	others["put user long name"] = s.PutUser(ctx, User{ID: "victim", Kind: UserCustomer, DisplayName: strings.Repeat("n", MaxDisplayNameBytes+1)})
	_, others["put user if absent id"] = s.PutUserIfAbsent(ctx, User{Kind: UserCustomer})
	_, others["get user long id"] = s.GetUser(ctx, long)
	for what, err := range others {
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: error %v, want ErrInvalid", what, err)
		}
	}
	if _, err := s.GetUser(ctx, "victim"); !errors.Is(err, ErrNotFound) {
		t.Errorf("rejected user was stored: %v", err)
	}
	if n, _ := s.DeliveredSeq(ctx, "victim", "phone"); n != 0 {
		t.Errorf("rejected ack was stored: %d", n)
	}
}
