package main

import (
	"bytes"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/bangbang-im/bangbang/marketing/campaign"
)

// The watch line: the bar over handled recipients, the counts, and by state the rate and
// ETA, the pause reason, or the state itself.
func TestProgressLine(t *testing.T) {
	at := time.Date(2026, 12, 5, 9, 30, 0, 0, time.Local)
	for _, c := range []struct {
		c    campaign.Campaign
		want string
	}{
		{campaign.Campaign{ID: "cmp_1", State: campaign.StateRunning},
			"cmp_1 ░░░░░░░░░░   0.0%  0/0 sent  0 delivered  0 read  0 clicked  0 failed  fixing the audience"},
		{campaign.Campaign{ID: "cmp_1", State: campaign.StateRunning, Stats: campaign.Stats{Targeted: 1000, Sent: 480, Failed: 10,
			Skipped: 10, Delivered: 300, Read: 20, Clicked: 3, Pending: 500, Rate: 100}},
			"cmp_1 █████░░░░░  50.0%  480/1000 sent  300 delivered  20 read  3 clicked  10 failed  10 skipped  100/s  ETA 5s"},
		{campaign.Campaign{ID: "cmp_1", State: campaign.StatePaused, PauseReason: "5 delivery attempts failed in a row",
			Stats: campaign.Stats{Targeted: 4, Sent: 1, Pending: 3}},
			"cmp_1 ██░░░░░░░░  25.0%  1/4 sent  0 delivered  0 read  0 clicked  0 failed  paused: 5 delivery attempts failed in a row"},
		{campaign.Campaign{ID: "cmp_1", State: campaign.StateScheduled, Spec: campaign.Spec{SendAt: &at}},
			"cmp_1 ░░░░░░░░░░   0.0%  0/0 sent  0 delivered  0 read  0 clicked  0 failed  scheduled for 09:30:00"},
		{campaign.Campaign{ID: "cmp_1", State: campaign.StateFinished, Stats: campaign.Stats{Targeted: 2, Sent: 2, Delivered: 1}},
			"cmp_1 ██████████ 100.0%  2/2 sent  1 delivered  0 read  0 clicked  0 failed  finished"},
	} {
		if got := progressLine(c.c, 10); got != c.want {
			t.Errorf("got  %q\nwant %q", got, c.want)
		}
	}
}

// `bangbang admin key create` writes a key into the campaign store and prints its secret
// once; the secret then authenticates as that role. A bad role is refused.
func TestAdminKeyCreate(t *testing.T) {
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	if err := run(t.Context(), []string{"admin", "key", "create", "--role", "author", "--name", "alice", "--data-dir", dir}, &out, &errOut); err != nil {
		t.Fatalf("%v %s", err, errOut.String())
	}
	secret := regexp.MustCompile(`(?m)^bbk_[0-9a-f]+$`).FindString(out.String())
	if secret == "" {
		t.Fatalf("no secret in %q", out.String())
	}
	st, err := campaign.OpenSQLite(t.Context(), filepath.Join(dir, "campaigns.db"), campaign.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	k, err := st.KeyBySecret(t.Context(), secret)
	if err != nil || k.Role != campaign.RoleAuthor || k.Name != "alice" {
		t.Fatalf("the key: %+v %v", k, err)
	}
	entries, err := st.Audit(t.Context(), campaign.AuditQuery{Action: "key."})
	if err != nil || len(entries) != 1 || entries[0].ActorID != "cli" {
		t.Fatalf("audit: %+v %v", entries, err)
	}
	err = run(t.Context(), []string{"admin", "key", "create", "--role", "owner", "--name", "x", "--data-dir", dir}, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "--role") {
		t.Fatalf("role owner: %v", err)
	}
}
