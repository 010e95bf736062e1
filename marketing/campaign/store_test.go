package campaign

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestKeys(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			s := b.open(t)
			ctx := t.Context()
			k, secret, err := s.CreateKey(ctx, staff, "ops", RoleSender)
			if err != nil {
				t.Fatal(err)
			}
			if k.Role != RoleSender || k.Name != "ops" || len(secret) != len(KeyPrefix)+48 || k.Prefix != secret[:len(k.Prefix)] {
				t.Fatalf("key %+v secret %q", k, secret)
			}
			got, err := s.KeyBySecret(ctx, secret)
			if err != nil || got.ID != k.ID || got.Role != RoleSender {
				t.Fatalf("lookup: %+v %v", got, err)
			}
			if _, err := s.KeyBySecret(ctx, secret+"x"); !errors.Is(err, ErrNotFound) {
				t.Fatalf("wrong secret: %v", err)
			}
			if _, _, err := s.CreateKey(ctx, staff, "x", "root"); fieldOf(err) != "role" {
				t.Fatalf("bad role: %v", err)
			}
			revoked, err := s.RevokeKey(ctx, staff, k.ID)
			if err != nil || revoked.RevokedAt == nil {
				t.Fatalf("revoke: %+v %v", revoked, err)
			}
			if _, err := s.KeyBySecret(ctx, secret); !errors.Is(err, ErrNotFound) {
				t.Fatalf("revoked key still works: %v", err)
			}
			if _, err := s.RevokeKey(ctx, staff, "key_nope"); !errors.Is(err, ErrNotFound) {
				t.Fatalf("revoke unknown: %v", err)
			}
			keys, err := s.ListKeys(ctx)
			if err != nil || len(keys) != 1 || keys[0].RevokedAt == nil {
				t.Fatalf("list: %+v %v", keys, err)
			}
			entries, err := s.Audit(ctx, AuditQuery{Target: "key:" + k.ID})
			if err != nil {
				t.Fatal(err)
			}
			if len(entries) != 2 || entries[0].Action != "key.revoke" || entries[1].Action != "key.create" ||
				entries[0].ActorID != staff.KeyID || entries[1].Before != nil {
				t.Fatalf("audit: %+v", entries)
			}
			var after Key
			if err := json.Unmarshal(entries[0].After, &after); err != nil || after.RevokedAt == nil {
				t.Fatalf("audit after: %s %v", entries[0].After, err)
			}
			if prefix, err := s.Audit(ctx, AuditQuery{Action: "key."}); err != nil || len(prefix) != 2 {
				t.Fatalf("audit by action prefix: %d %v", len(prefix), err)
			}
			if page, err := s.Audit(ctx, AuditQuery{BeforeID: entries[0].ID, Limit: 1}); err != nil || len(page) != 1 || page[0].ID != entries[1].ID {
				t.Fatalf("audit page: %+v %v", page, err)
			}
		})
	}
}

func fieldOf(err error) string {
	var fe *FieldError
	if errors.As(err, &fe) {
		return fe.Field
	}
	return ""
}

func TestMerchants(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			s := b.open(t)
			ctx := t.Context()
			m := mustMerchant(t, s, Merchant{ID: "m1", Name: " Ada ", City: "Shanghai", Category: "housing", Tags: []string{"VIP", "new", "vip"}})
			if m.Name != "Ada" || !slices.Equal(m.Tags, []string{"new", "vip"}) {
				t.Fatalf("normalised: %+v", m)
			}
			if _, err := s.CreateMerchant(ctx, staff, Merchant{ID: "m1", Name: "again"}); !errors.Is(err, ErrConflict) {
				t.Fatalf("duplicate: %v", err)
			}
			mustMerchant(t, s, Merchant{ID: "m2", Name: "Bo", City: "Beijing", Category: "jobs", Tags: []string{"vip"}})
			mustMerchant(t, s, Merchant{ID: "m3", Name: "Cy", City: "Shanghai", Category: "jobs"})
			for _, tc := range []struct {
				q    MerchantQuery
				want []string
			}{
				{MerchantQuery{}, []string{"m1", "m2", "m3"}},
				{MerchantQuery{Segment: Segment{Cities: []string{"Shanghai"}}}, []string{"m1", "m3"}},
				{MerchantQuery{Segment: Segment{Tags: []string{"vip"}}}, []string{"m1", "m2"}},
				{MerchantQuery{Segment: Segment{Cities: []string{"Shanghai"}, Categories: []string{"jobs"}}}, []string{"m3"}},
				{MerchantQuery{Segment: Segment{Tags: []string{"vip", "new"}}}, []string{"m1"}},
				{MerchantQuery{After: "m1", Limit: 1}, []string{"m2"}},
				{MerchantQuery{Search: "ada"}, []string{"m1"}},           // a name, ignoring case
				{MerchantQuery{Search: "M"}, []string{"m1", "m2", "m3"}}, // ids
				{MerchantQuery{Search: "%"}, nil},                        // the pattern's own characters match themselves
				{MerchantQuery{Search: "_"}, nil},
				{MerchantQuery{Search: "y", Segment: Segment{Cities: []string{"Shanghai"}}}, []string{"m3"}},
				{MerchantQuery{Prefix: "m3"}, []string{"m3"}},
			} {
				list, err := s.ListMerchants(ctx, tc.q)
				if err != nil {
					t.Fatal(err)
				}
				var ids []string
				for _, m := range list {
					ids = append(ids, m.ID)
				}
				if !slices.Equal(ids, tc.want) {
					t.Errorf("%+v: %v, want %v", tc.q, ids, tc.want)
				}
			}
			var fe *FieldError
			if _, err := s.ListMerchants(ctx, MerchantQuery{Search: strings.Repeat("a", MaxSearch+1)}); !errors.As(err, &fe) || fe.Field != "search" {
				t.Errorf("a search over %d bytes: %v, want a FieldError on search", MaxSearch, err)
			}
			up, err := s.UpdateMerchant(ctx, staff, Merchant{ID: "m3", Name: "Cy", City: "Beijing", Category: "jobs"})
			if err != nil || up.City != "Beijing" || up.CreatedAt.IsZero() {
				t.Fatalf("update: %+v %v", up, err)
			}
			n, err := s.CountAudience(ctx, Audience{MerchantIDs: []string{"m1"}, Segment: &Segment{Cities: []string{"Beijing"}}})
			if err != nil || n != 3 {
				t.Fatalf("count: %d %v", n, err)
			}
			if err := s.DeleteMerchant(ctx, staff, "m2"); err != nil {
				t.Fatal(err)
			}
			if _, err := s.GetMerchant(ctx, "m2"); !errors.Is(err, ErrNotFound) {
				t.Fatalf("deleted merchant: %v", err)
			}
			if n, _ := s.CountAudience(ctx, Audience{Segment: &Segment{Tags: []string{"vip"}}}); n != 1 {
				t.Fatalf("deleted merchant still counted: %d", n)
			}
			if unknown, err := s.UnknownMerchants(ctx, []string{"m1", "m2", "zz"}); err != nil || !slices.Equal(unknown, []string{"m2", "zz"}) {
				t.Fatalf("unknown: %v %v", unknown, err)
			}
			created, updated, err := s.UpsertMerchants(ctx, []Merchant{{ID: "m2", Name: "Bo back", Tags: []string{}}, {ID: "m9", Name: "New"}})
			if err != nil || created != 1 || updated != 1 {
				t.Fatalf("upsert: %d %d %v", created, updated, err)
			}
			if back, err := s.GetMerchant(ctx, "m2"); err != nil || back.Name != "Bo back" {
				t.Fatalf("upsert brings a deleted merchant back: %+v %v", back, err)
			}
			for _, bad := range []struct {
				m     Merchant
				field string
			}{
				{Merchant{ID: "", Name: "x"}, "id"},
				{Merchant{ID: "a b", Name: "x"}, "id"},
				{Merchant{ID: "ok", Name: ""}, "name"},
				{Merchant{ID: "ok", Name: "x", City: "a\nb"}, "city"},
				{Merchant{ID: "ok", Name: "x", Tags: []string{"ok", "bad tag"}}, "tags[1]"},
			} {
				if _, err := s.CreateMerchant(ctx, staff, bad.m); fieldOf(err) != bad.field {
					t.Errorf("%+v: %v, want field %s", bad.m, err, bad.field)
				}
			}
			entries, _ := s.Audit(ctx, AuditQuery{Target: "merchant:m3"})
			if len(entries) != 2 || entries[0].Action != "merchant.update" || entries[0].Before == nil || entries[0].After == nil {
				t.Fatalf("audit: %+v", entries)
			}
		})
	}
}

func TestSpecValidation(t *testing.T) {
	now := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	past, future := now.Add(-time.Minute), now.Add(time.Hour)
	ok := simpleSpec("m1")
	for _, tc := range []struct {
		name  string
		edit  func(*Spec)
		field string
	}{
		{"valid", func(*Spec) {}, ""},
		{"no name", func(s *Spec) { s.Name = " " }, "name"},
		{"empty audience", func(s *Spec) { s.Audience = Audience{} }, "audience"},
		{"empty segment", func(s *Spec) { s.Audience = Audience{Segment: &Segment{}} }, "audience"},
		{"bad id", func(s *Spec) { s.Audience.MerchantIDs = []string{"m1", "no way"} }, "audience.merchant_ids[1]"},
		{"twice", func(s *Spec) { s.Audience.MerchantIDs = []string{"m1", "m1"} }, "audience.merchant_ids[1]"},
		{"bad tag", func(s *Spec) { s.Audience.Segment = &Segment{Tags: []string{"A B"}} }, "audience.segment.tags[0]"},
		{"rate negative", func(s *Spec) { s.Rate = -1 }, "rate"},
		{"rate absurd", func(s *Spec) { s.Rate = 1_000_000_000 }, "rate"},
		{"send in the past", func(s *Spec) { s.SendAt = &past }, "send_at"},
		{"send ahead", func(s *Spec) { s.SendAt = &future }, ""},
		{"template does not parse", func(s *Spec) { s.Message.Body = "Hi {{.Name" }, "message.body"},
		{"unknown field", func(s *Spec) { s.Message.Body = "Hi {{.Nickname}}" }, "message.body"},
		{"unknown field in a branch", func(s *Spec) { s.Message.Title = "{{if .City}}{{.Phone}}{{end}}" }, "message.title"},
		{"field of a string", func(s *Spec) { s.Message.Body = "{{.Name.First}}" }, "message.body"},
		{"empty body", func(s *Spec) { s.Message.Body = "" }, "message.body"},
		{"unknown action", func(s *Spec) { s.Message.Action = &Action{Label: "Go", Type: "launch"} }, "message.action.type"},
		{"action without target", func(s *Spec) { s.Message.Action = &Action{Label: "Go", Type: "listing.refresh"} }, "message.action.target"},
		{"action with needless target", func(s *Spec) { s.Message.Action = &Action{Label: "Go", Type: "credits", Target: "x"} }, "message.action.target"},
		{"action ok", func(s *Spec) {
			s.Message.Action = &Action{Label: "Refresh {{.Name}}", Type: "listing.refresh", Target: "L{{.ID}}-01"}
		}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sp := ok
			sp.Audience.MerchantIDs = slices.Clone(ok.Audience.MerchantIDs)
			tc.edit(&sp)
			err := sp.Validate(now)
			if got := fieldOf(err); got != tc.field || (tc.field == "" && err != nil) {
				t.Fatalf("field %q (%v), want %q", got, err, tc.field)
			}
		})
	}
}

func TestRender(t *testing.T) {
	sp := simpleSpec("m1")
	sp.Message.Action = &Action{Label: "Refresh {{.Name}}", Type: "listing.refresh", Target: "L{{.ID}}-01"}
	r, err := Render("cmp_1", sp, Merchant{ID: "m1001", Name: "Ada", City: "Shanghai"}, false)
	if err != nil {
		t.Fatal(err)
	}
	want := Rendered{CampaignID: "cmp_1", Title: "Hello Ada", Body: "Refresh your listings in Shanghai",
		Action: &RenderedAction{Label: "Refresh Ada", Type: "listing.refresh", Method: "POST", Path: "/v1/listings/Lm1001-01/refresh"}}
	if r.Title != want.Title || r.Body != want.Body || *r.Action != *want.Action || r.CampaignID != want.CampaignID {
		t.Fatalf("rendered %+v %+v", r, r.Action)
	}
	body, err := r.body()
	if err != nil {
		t.Fatal(err)
	}
	const wantJSON = `{"campaign_id":"cmp_1","title":"Hello Ada","body":"Refresh your listings in Shanghai","action":{"label":"Refresh Ada","type":"listing.refresh","method":"POST","path":"/v1/listings/Lm1001-01/refresh"}}`
	if string(body) != wantJSON {
		t.Fatalf("body %s", body)
	}
	sp.Message.Body = `{{range .Tags}}{{.}}{{.}}{{.}}{{.}}{{end}}`
	big := Merchant{ID: "m1", Name: "x"}
	for range 20 {
		big.Tags = append(big.Tags, string(make([]byte, 1000)))
	}
	if _, err := Render("cmp_1", sp, big, false); fieldOf(err) != "message.body" {
		t.Fatalf("runaway template: %v", err)
	}
}

func TestCampaignLifecycle(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			s := b.open(t)
			ctx := t.Context()
			mustMerchant(t, s, Merchant{ID: "m1", Name: "Ada"})
			if _, err := s.CreateCampaign(ctx, staff, simpleSpec("m1", "ghost")); fieldOf(err) != "audience.merchant_ids[1]" {
				t.Fatalf("unknown merchant: %v", err)
			}
			c, err := s.CreateCampaign(ctx, staff, simpleSpec("m1"))
			if err != nil {
				t.Fatal(err)
			}
			if c.State != StateDraft || c.Rate != 1000 || c.CreatedBy != staff.KeyID {
				t.Fatalf("created %+v", c)
			}
			var se *StateError
			if _, err := s.Pause(ctx, staff, c.ID, ""); !errors.As(err, &se) || se.State != StateDraft {
				t.Fatalf("pause a draft: %v", err)
			}
			sp := simpleSpec("m1")
			sp.Name = "renamed"
			if c, err = s.UpdateCampaign(ctx, staff, c.ID, sp); err != nil || c.Name != "renamed" {
				t.Fatalf("update: %+v %v", c, err)
			}
			if c, err = s.Start(ctx, staff, c.ID); err != nil || c.State != StateRunning || c.StartedAt == nil {
				t.Fatalf("start: %+v %v", c, err)
			}
			if _, err := s.UpdateCampaign(ctx, staff, c.ID, sp); !errors.As(err, &se) || se.State != StateRunning {
				t.Fatalf("edit running: %v", err)
			}
			if _, err := s.Start(ctx, staff, c.ID); !errors.As(err, &se) || se.State != StateRunning {
				t.Fatalf("start twice: %v", err)
			}
			if c, err = s.Pause(ctx, staff, c.ID, "wrong copy"); err != nil || c.State != StatePaused || c.PauseReason != "wrong copy" {
				t.Fatalf("pause: %+v %v", c, err)
			}
			if c, err = s.Resume(ctx, staff, c.ID); err != nil || c.State != StateRunning || c.PauseReason != "" {
				t.Fatalf("resume: %+v %v", c, err)
			}
			if c, err = s.Cancel(ctx, staff, c.ID); err != nil || c.State != StateCancelled || c.FinishedAt == nil {
				t.Fatalf("cancel: %+v %v", c, err)
			}
			if _, err := s.Resume(ctx, staff, c.ID); !errors.As(err, &se) || se.State != StateCancelled {
				t.Fatalf("resume cancelled: %v", err)
			}
			if err := s.DeleteCampaign(ctx, staff, c.ID); !errors.As(err, &se) {
				t.Fatalf("delete cancelled: %v", err)
			}
			got, err := s.GetCampaign(ctx, c.ID)
			if err != nil || got.State != StateCancelled || got.Name != "renamed" {
				t.Fatalf("get: %+v %v", got, err)
			}
			entries, _ := s.Audit(ctx, AuditQuery{Target: "campaign:" + c.ID})
			var actions []string
			for _, e := range entries {
				actions = append(actions, e.Action)
			}
			want := []string{"campaign.cancel", "campaign.resume", "campaign.pause", "campaign.start", "campaign.update", "campaign.create"}
			if !slices.Equal(actions, want) {
				t.Fatalf("audit %v, want %v", actions, want)
			}

			// Scheduled: start waits for the send time; an audience that reaches nobody is refused.
			later := time.Now().Add(time.Hour)
			sp2 := simpleSpec("m1")
			sp2.SendAt = &later
			c2, err := s.CreateCampaign(ctx, staff, sp2)
			if err != nil {
				t.Fatal(err)
			}
			if c2, err = s.Start(ctx, staff, c2.ID); err != nil || c2.State != StateScheduled || c2.StartedAt != nil {
				t.Fatalf("schedule: %+v %v", c2, err)
			}
			c3, err := s.CreateCampaign(ctx, staff, Spec{Name: "nobody", Audience: Audience{Segment: &Segment{Cities: []string{"Atlantis"}}},
				Message: Message{Title: "t", Body: "b"}})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.Start(ctx, staff, c3.ID); fieldOf(err) != "audience" {
				t.Fatalf("empty audience: %v", err)
			}
			if err := s.DeleteCampaign(ctx, staff, c3.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := s.GetCampaign(ctx, c3.ID); !errors.Is(err, ErrNotFound) {
				t.Fatalf("deleted draft: %v", err)
			}
			list, err := s.ListCampaigns(ctx, "", "", 0)
			if err != nil || len(list) != 2 || list[0].ID != c2.ID {
				t.Fatalf("list: %d %v", len(list), err)
			}
			if list, _ := s.ListCampaigns(ctx, StateScheduled, "", 0); len(list) != 1 {
				t.Fatalf("list scheduled: %d", len(list))
			}
		})
	}
}
