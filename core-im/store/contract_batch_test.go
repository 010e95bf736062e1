package store

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// A repeated system message (a campaign's per-user dedup key) answers the first message's
// id, conversation seq and inbox seq, even after later messages moved both counters on.
func testDedupSystemKeepsOriginalSeqs(t *testing.T, b backend) {
	s := b.open(t, Options{})
	ctx := t.Context()
	if _, err := s.Append(ctx, chat("c1", "m1", "")); err != nil { // m1's inbox seq 1
		t.Fatal(err)
	}
	offer := system("m1")
	offer.From = "campaign:7"
	offer.ClientMsgID = "campaign-7/m1"
	first, err := s.Append(ctx, offer)
	if err != nil {
		t.Fatal(err)
	}
	if first.Duplicate || first.Message.ConvSeq != 1 || !slices.Equal(first.Inbox, []InboxEntry{{"m1", 2}}) {
		t.Fatalf("first = conv seq %d inbox %v duplicate %v; want 1, [{m1 2}], false",
			first.Message.ConvSeq, first.Inbox, first.Duplicate)
	}
	if _, err := s.Append(ctx, system("m1")); err != nil { // s:m1 seq 2, m1's inbox seq 3
		t.Fatal(err)
	}
	retry := offer
	retry.Body = []byte("a re-rendered body is ignored")
	retry.SentAt = time.Now().Add(time.Hour)
	again, err := s.Append(ctx, retry)
	if err != nil {
		t.Fatal(err)
	}
	if !again.Duplicate || !slices.Equal(again.Inbox, first.Inbox) {
		t.Errorf("retry = inbox %v duplicate %v; want %v, true", again.Inbox, again.Duplicate, first.Inbox)
	}
	assertMessage(t, "retry", again.Message, first.Message)
	if n, _ := s.MaxSeq(ctx, "m1"); n != 3 {
		t.Errorf("after the retry m1's max seq = %d, want 3", n)
	}
}

func testReceipts(t *testing.T, b backend) {
	s := b.open(t, Options{})
	ctx := t.Context()
	if got, err := s.Receipts(ctx, nil); err != nil || len(got) != 0 {
		t.Fatalf("receipts of no queries = %v, %v; want none", got, err)
	}
	// Marks never pass what exists: m1's inbox gets 18 seqs, s:m1 11, the chat 7, m2's 4.
	appendN(t, s, 11, system("m1"))
	appendN(t, s, 7, chat("m1", "c1", ""))
	appendN(t, s, 4, system("m2"))
	for _, a := range []struct {
		user, device string
		seq          int64
	}{{"m1", "phone", 5}, {"m1", "tablet", 9}, {"m1", "laptop", 2}, {"m2", "phone", 4}} {
		if _, err := s.AckDelivered(ctx, a.user, a.device, a.seq); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range []struct {
		user, conv string
		seq        int64
	}{{"m1", "s:m1", 3}, {"m1", convOf("m1", "c1"), 7}, {"c1", "s:m1", 11}} {
		if _, err := s.MarkRead(ctx, r.user, r.conv, r.seq); err != nil {
			t.Fatal(err)
		}
	}
	qs := []ReceiptQuery{
		{"m1", "s:m1"},
		{"m2", "s:m2"},             // acked, never read
		{"nobody", "s:nobody"},     // nothing at all
		{"m1", convOf("m1", "c1")}, // another conversation of the same user
		{"m1", "s:m1"},             // asked twice
		{"c1", "s:c1"},             // read someone else's conversation only
	}
	want := []Receipt{
		{"m1", "s:m1", 9, 3},
		{"m2", "s:m2", 4, 0},
		{"nobody", "s:nobody", 0, 0},
		{"m1", convOf("m1", "c1"), 9, 7},
		{"m1", "s:m1", 9, 3},
		{"c1", "s:c1", 0, 0},
	}
	got, err := s.Receipts(ctx, qs)
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("receipts = %v, %v\nwant %v", got, err, want)
	}

	// A full batch is one statement on both backends (SQLite binds 3 parameters a query).
	full := make([]ReceiptQuery, MaxBatch)
	for i := range full {
		full[i] = ReceiptQuery{fmt.Sprintf("u%d", i%7), "s:m1"}
	}
	full[MaxBatch-1] = ReceiptQuery{"m1", "s:m1"}
	got, err = s.Receipts(ctx, full)
	if err != nil || len(got) != MaxBatch || got[MaxBatch-1] != want[0] || got[0] != (Receipt{"u0", "s:m1", 0, 0}) {
		t.Fatalf("receipts of a full batch: %d results, last %+v, %v", len(got), got[len(got)-1], err)
	}

	for _, tc := range []struct {
		field string
		qs    []ReceiptQuery
	}{
		{"queries[1].UserID", []ReceiptQuery{{"m1", "s:m1"}, {"", "s:m1"}}},
		{"queries[0].ConvID", []ReceiptQuery{{"m1", strings.Repeat("c", MaxIDBytes+1)}}},
		{"queries[2].ConvID", []ReceiptQuery{{"m1", "s:m1"}, {"m1", "s:m1"}, {"m1", "bad\x00conv"}}},
		{"queries", make([]ReceiptQuery, MaxBatch+1)},
	} {
		_, err := s.Receipts(ctx, tc.qs)
		var ie *InvalidError
		if !errors.As(err, &ie) || ie.Field != tc.field {
			t.Errorf("receipts with a bad %s: %v, want ErrInvalid on that field", tc.field, err)
		}
	}
}

// MissingUsers names, in the order asked and once each, the ids with no user; a full
// batch is one call; bad input is refused naming the field.
func testMissingUsers(t *testing.T, b backend) {
	s := b.open(t, Options{})
	ctx := t.Context()
	if got, err := s.MissingUsers(ctx, nil); err != nil || len(got) != 0 {
		t.Fatalf("no ids: %v %v", got, err)
	}
	var us []User
	for i := range MaxBatch {
		if i%3 != 0 {
			us = append(us, User{ID: fmt.Sprintf("u%04d", i), Kind: UserMerchant})
		}
	}
	if _, err := s.PutUsersIfAbsent(ctx, us); err != nil {
		t.Fatal(err)
	}
	all := make([]string, MaxBatch)
	var want []string
	for i := range all {
		all[MaxBatch-1-i] = fmt.Sprintf("u%04d", i) // asked newest first
	}
	for _, id := range all {
		var n int
		fmt.Sscanf(id, "u%d", &n)
		if n%3 == 0 {
			want = append(want, id)
		}
	}
	got, err := s.MissingUsers(ctx, all)
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("a full batch: %d missing (%v), want %d", len(got), err, len(want))
	}
	if got, err := s.MissingUsers(ctx, []string{"u0001", "nobody", "u0002", "nobody"}); err != nil || !slices.Equal(got, []string{"nobody"}) {
		t.Fatalf("repeated ids: %v %v", got, err)
	}
	for _, tc := range []struct {
		field string
		ids   []string
	}{
		{"ids[1]", []string{"u0001", ""}},
		{"ids[0]", []string{strings.Repeat("u", MaxIDBytes+1)}},
		{"ids", make([]string, MaxBatch+1)},
	} {
		_, err := s.MissingUsers(ctx, tc.ids)
		var ie *InvalidError
		if !errors.As(err, &ie) || ie.Field != tc.field {
			t.Errorf("missing users with a bad %s: %v, want ErrInvalid on that field", tc.field, err)
		}
	}
}

func testPutUsersIfAbsent(t *testing.T, b backend) {
	s := b.open(t, Options{})
	ctx := t.Context()
	created := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	old := User{ID: "m1", Kind: UserMerchant, DisplayName: "Old Name", PasswordHash: []byte("$2a$10$hash"), CreatedAt: created}
	if err := s.PutUser(ctx, old); err != nil {
		t.Fatal(err)
	}
	if n, err := s.PutUsersIfAbsent(ctx, nil); err != nil || n != 0 {
		t.Fatalf("put no users = %d, %v", n, err)
	}
	batch := []User{
		{ID: "m2", Kind: UserMerchant, DisplayName: "Sunny Homes 地产", CreatedAt: created},
		{ID: "m1", Kind: UserCustomer, DisplayName: "New Name"}, // exists: untouched
		{ID: "c1", Kind: UserCustomer},
		{ID: "m2", Kind: UserCustomer, DisplayName: "second entry"}, // repeated: the first wins
	}
	n, err := s.PutUsersIfAbsent(ctx, batch)
	if err != nil || n != 2 {
		t.Fatalf("put users = %d, %v; want 2 created", n, err)
	}
	for _, want := range []User{old, {ID: "m2", Kind: UserMerchant, DisplayName: "Sunny Homes 地产", CreatedAt: created}} {
		got, err := s.GetUser(ctx, want.ID)
		if err != nil {
			t.Fatal(err)
		}
		assertUser(t, got, want)
	}
	c1, err := s.GetUser(ctx, "c1")
	if err != nil || c1.Kind != UserCustomer || len(c1.PasswordHash) != 0 || c1.CreatedAt.IsZero() {
		t.Errorf("c1 = %+v, %v; want a customer with no password hash, created now", c1, err)
	}
	if n, err := s.PutUsersIfAbsent(ctx, batch); err != nil || n != 0 {
		t.Errorf("the same batch again = %d, %v; want 0 created", n, err)
	}

	// A full batch is one statement on both backends (SQLite binds 5 parameters a user).
	full := make([]User, MaxBatch)
	for i := range full {
		full[i] = User{ID: fmt.Sprintf("bulk%04d", i), Kind: UserMerchant, DisplayName: fmt.Sprint("Merchant ", i)}
	}
	full[500] = User{ID: "m1", Kind: UserMerchant}
	if n, err := s.PutUsersIfAbsent(ctx, full); err != nil || n != MaxBatch-1 {
		t.Fatalf("put a full batch = %d, %v; want %d", n, err, MaxBatch-1)
	}
	if u, err := s.GetUser(ctx, "bulk0999"); err != nil || u.DisplayName != "Merchant 999" {
		t.Errorf("last of a full batch = %+v, %v", u, err)
	}

	// One bad user fails the call, naming its index, and writes nothing.
	for _, tc := range []struct {
		field string
		bad   User
	}{
		{"users[1].ID", User{Kind: UserCustomer}},
		{"users[1].ID", User{ID: strings.Repeat("x", MaxIDBytes+1), Kind: UserCustomer}},
		{"users[1].Kind", User{ID: "x1", Kind: "robot"}},
		{"users[1].DisplayName", User{ID: "x1", Kind: UserCustomer, DisplayName: strings.Repeat("n", MaxDisplayNameBytes+1)}},
		{"users[1].DisplayName", User{ID: "x1", Kind: UserCustomer, DisplayName: "\xff"}},
	} {
		_, err := s.PutUsersIfAbsent(ctx, []User{{ID: "fresh", Kind: UserMerchant}, tc.bad})
		var ie *InvalidError
		if !errors.As(err, &ie) || ie.Field != tc.field {
			t.Errorf("put users with a bad %s: %v, want ErrInvalid on that field", tc.field, err)
		}
	}
	if _, err := s.PutUsersIfAbsent(ctx, make([]User, MaxBatch+1)); !errors.Is(err, ErrInvalid) {
		t.Errorf("put %d users: %v, want ErrInvalid", MaxBatch+1, err)
	}
	if _, err := s.GetUser(ctx, "fresh"); !errors.Is(err, ErrNotFound) {
		t.Errorf("a refused batch stored its valid users: %v", err)
	}
}

// Imports running at once over the same ids, each in its own order, neither fail (no
// deadlock on PostgreSQL: without the id order, a few rounds are enough for one) nor count
// a user twice.
func testPutUsersIfAbsentConcurrent(t *testing.T, b backend) {
	s := b.open(t, Options{})
	const rounds, users, workers = 10, 1000, 8
	for round := range rounds {
		batch := make([]User, users)
		for i := range batch {
			batch[i] = User{ID: fmt.Sprintf("r%d-m%04d", round, i), Kind: UserMerchant}
		}
		created := make([]int, workers)
		errs := make([]error, workers)
		var wg sync.WaitGroup
		for w := range workers {
			mine := slices.Clone(batch)
			rand.Shuffle(len(mine), func(i, j int) { mine[i], mine[j] = mine[j], mine[i] })
			wg.Go(func() { created[w], errs[w] = s.PutUsersIfAbsent(t.Context(), mine) })
		}
		wg.Wait()
		total := 0
		for w := range workers {
			if errs[w] != nil {
				t.Fatalf("round %d worker %d: %v", round, w, errs[w])
			}
			total += created[w]
		}
		if total != users {
			t.Fatalf("round %d: workers created %d users in all, want %d", round, total, users)
		}
	}
}
