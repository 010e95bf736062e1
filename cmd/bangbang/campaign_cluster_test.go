package main

import (
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/bangbang-im/bangbang/core-im/auth"
	"github.com/bangbang-im/bangbang/marketing/campaign"
)

// TestSeparateProcessesCampaign runs a campaign as a cluster does: logic, a gateway, the
// staff API and two campaign workers as separate processes on PostgreSQL and Redis, the
// workers reaching logic over Kitex and pacing on Redis. Every merchant is stored exactly
// one message whichever worker took the campaign; the connected one is pushed it once and
// its device's ack comes back as a delivery.
func TestSeparateProcessesCampaign(t *testing.T) {
	t.Parallel()
	db := pgSchema(t)
	env := []string{"DATABASE_URL=" + db, "REDIS_ADDR=127.0.0.1:6379", "BANGBANG_ADMIN_KEY=" + testAdminKey}
	dataDir := t.TempDir()
	logicAddr, pushAddr, tcp, adminAddr := freeAddr(t), freeAddr(t), freeAddr(t), freeAddr(t)
	common := []string{"--data-dir", dataDir, "--log-level", "debug"}
	start(t, "logic", env, []string{logicAddr}, append([]string{"logic", "--metrics-addr", "-", "--logic-addr", logicAddr}, common...)...)
	start(t, "gateway", env, []string{tcp, pushAddr}, append([]string{"gateway", "--metrics-addr", "-", "--logic-addr", logicAddr,
		"--push-addr", pushAddr, "--tcp-addr", tcp, "--ws-addr", "-", "--token-secret", testTokenSecret}, common...)...)
	start(t, "admin", env, []string{adminAddr}, append([]string{"admin", "--admin-addr", adminAddr, "--logic-addr", logicAddr}, common...)...)
	for i := range 2 {
		m := freeAddr(t)
		start(t, fmt.Sprintf("campaign-%d", i), env, []string{m}, append([]string{"campaign", "--metrics-addr", m, "--logic-addr", logicAddr}, common...)...)
	}
	api := staffAPI{t, "http://" + adminAddr}

	const n = 300
	var csv strings.Builder
	csv.WriteString("id,name,tags\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&csv, "k%04d,Shop %d,cluster\n", i, i)
	}
	var rep campaign.ImportReport
	if st := api.call("POST", "/admin/v1/merchants/import", "text/csv", strings.NewReader(csv.String()), &rep); st != 200 || rep.Created != n {
		t.Fatalf("import: %d %+v", st, rep)
	}
	tk, err := auth.NewTokens([]byte(testTokenSecret), time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	var c campaign.Campaign
	spec := campaign.Spec{Name: "cluster", Rate: 500, Audience: campaign.Audience{Segment: &campaign.Segment{Tags: []string{"cluster"}}},
		Message: campaign.Message{Title: "Hi {{.Name}}", Body: "From the cluster"}}
	if st := api.json("POST", "/admin/v1/campaigns", spec, &c); st != 201 {
		t.Fatalf("create: %d", st)
	}
	in := watchInbox(dialMerchant(t, system{imAddr: tcp}, tk, "k0007"), c.ID)
	if st := api.json("POST", "/admin/v1/campaigns/"+c.ID+"/start", nil, &c); st != 200 {
		t.Fatalf("start: %d", st)
	}
	m := in.first(t)
	if !strings.Contains(string(m.Body), `"title":"Hi Shop 7"`) {
		t.Fatalf("k0007 got %s", m.Body)
	}
	done := api.waitCampaign(c.ID, "finished and delivered", func(c campaign.Campaign) bool {
		return c.State == campaign.StateFinished && c.Stats.Delivered == 1
	})
	if done.Stats.Sent != n || done.Stats.Failed+done.Stats.Skipped != 0 || in.count() != 1 {
		t.Fatalf("stats %+v; k0007 shows it %d times", done.Stats, in.count())
	}
	// 300 at 500/s: a batch of up to 500 may go at once, so no lower bound on the time here
	// (the cap is checked in the pacer's and the worker's tests); what is stored is exact.
	sdb, err := sql.Open("pgx", db)
	if err != nil {
		t.Fatal(err)
	}
	defer sdb.Close()
	var users, msgs int
	if err := sdb.QueryRow(`SELECT count(DISTINCT recipient), count(*) FROM messages WHERE sender = 'campaign:' || $1`, c.ID).Scan(&users, &msgs); err != nil {
		t.Fatal(err)
	}
	if users != n || msgs != n {
		t.Fatalf("stored %d messages for %d merchants, want %d each", msgs, users, n)
	}
}
