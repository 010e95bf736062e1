package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver, to count stored messages
	_ "modernc.org/sqlite"

	"github.com/bangbang-im/bangbang/core-im/auth"
	"github.com/bangbang-im/bangbang/core-im/client"
	"github.com/bangbang-im/bangbang/marketing/campaign"
)

const testTokenSecret = "e2e-token-secret-0123456789abcdef0123456789"

// staffAPI calls the admin API with the bootstrap key.
type staffAPI struct {
	t    *testing.T
	base string
}

func (a staffAPI) call(method, path, contentType string, body io.Reader, out any) int {
	a.t.Helper()
	req, err := http.NewRequest(method, a.base+path, body)
	if err != nil {
		a.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testAdminKey)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(b, out); err != nil {
			a.t.Fatalf("%s %s: %v in %s", method, path, err, b)
		}
	}
	if resp.StatusCode >= 300 {
		a.t.Logf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	return resp.StatusCode
}

func (a staffAPI) json(method, path string, in, out any) int {
	a.t.Helper()
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	return a.call(method, path, "application/json", body, out)
}

func (a staffAPI) campaign(id string) campaign.Campaign {
	a.t.Helper()
	var c campaign.Campaign
	if st := a.json("GET", "/admin/v1/campaigns/"+id, nil, &c); st != 200 {
		a.t.Fatalf("get campaign: %d", st)
	}
	return c
}

// waitCampaign polls the campaign until cond holds.
func (a staffAPI) waitCampaign(id string, what string, cond func(campaign.Campaign) bool) campaign.Campaign {
	a.t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		c := a.campaign(id)
		if cond(c) {
			return c
		}
		if time.Now().After(deadline) {
			a.t.Fatalf("campaign %s: %s not reached: %s %+v", id, what, c.State, c.Stats)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// campaignInbox collects what one connected merchant's app shows of campaign id.
type campaignInbox struct {
	c    *client.Client
	mu   sync.Mutex
	msgs []client.Message
	got  chan struct{}
}

func watchInbox(c *client.Client, id string) *campaignInbox {
	in := &campaignInbox{c: c, got: make(chan struct{}, 16)}
	go func() {
		for m := range c.Messages() {
			var r campaign.Rendered
			if m.ContentType != campaign.ContentType || json.Unmarshal(m.Body, &r) != nil || r.CampaignID != id {
				continue
			}
			in.mu.Lock()
			in.msgs = append(in.msgs, m)
			in.mu.Unlock()
			in.got <- struct{}{}
		}
	}()
	return in
}

func (in *campaignInbox) count() int {
	in.mu.Lock()
	defer in.mu.Unlock()
	return len(in.msgs)
}

func (in *campaignInbox) first(t *testing.T) client.Message {
	t.Helper()
	select {
	case <-in.got:
	case <-time.After(60 * time.Second):
		t.Fatalf("%s: no campaign message after 60s", in.c.UserID())
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.msgs[0]
}

func dialMerchant(t *testing.T, s system, tk *auth.Tokens, id string) *client.Client {
	t.Helper()
	c, err := client.Dial(t.Context(), client.Config{Addr: s.imAddr, DeviceID: "phone",
		Token:        func(context.Context) (string, error) { tok, _, err := tk.Issue(id, "merchant"); return tok, err },
		ReconnectMin: 50 * time.Millisecond, ReconnectMax: 300 * time.Millisecond})
	if err != nil {
		t.Fatalf("dial %s: %v", id, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestCampaignSQLite(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	campaignSuite(t, nil, "sqlite", filepath.Join(dir, "bangbang.db"), dir)
}

func TestCampaignPostgres(t *testing.T) {
	t.Parallel()
	url := pgSchema(t)
	campaignSuite(t, []string{"DATABASE_URL=" + url}, "pgx", url, t.TempDir())
}

// campaignSuite runs a 10,000-merchant campaign through `bangbang all` with some merchants
// connected over TCP with the SDK and the rest offline, pauses and resumes it from the
// terminal client, kills the process with SIGKILL mid-campaign, restarts it, and checks
// every merchant got the message exactly once and the stats say what the apps saw.
func campaignSuite(t *testing.T, env []string, driver, imDSN, dir string) {
	const merchants = 10_000
	tcp, edgeAddr, adminAddr := freeAddr(t), freeAddr(t), freeAddr(t)
	env = append(env, "BANGBANG_ADMIN_KEY="+testAdminKey)
	args := []string{"all", "--data-dir", dir, "--token-secret", testTokenSecret,
		"--tcp-addr", tcp, "--ws-addr", "-", "--edge-addr", edgeAddr, "--admin-addr", adminAddr,
		"--sim-housing-addr", freeAddr(t), "--sim-recruitment-addr", freeAddr(t), "--sim-account-addr", freeAddr(t)}
	p := start(t, "all", env, []string{tcp, edgeAddr, adminAddr}, args...)
	s := system{edge: "http://" + edgeAddr, imAddr: tcp, admin: "http://" + adminAddr}
	api := staffAPI{t, s.admin}
	cli := func(args ...string) string {
		t.Helper()
		var out, errOut bytes.Buffer
		args = append(args, "--admin", s.admin, "--admin-key", testAdminKey)
		if err := run(t.Context(), append([]string{"campaign"}, args...), &out, &errOut); err != nil {
			t.Fatalf("bangbang campaign %v: %v %s", args, err, errOut.String())
		}
		return out.String()
	}

	// The audience: a CSV import, streamed. Merchant 0 is m1001, whom the simulated third
	// party knows, so its button works.
	ids := make([]string, merchants)
	index := map[string]int{}
	var csv strings.Builder
	csv.WriteString("id,name,city,category,tags\n")
	for i := range ids {
		ids[i] = fmt.Sprintf("e%05d", i)
		if i == 0 {
			ids[i] = "m1001"
		}
		index[ids[i]] = i
		fmt.Fprintf(&csv, "%s,Shop %d,%s,housing,e2e\n", ids[i], i, []string{"Shanghai", "Beijing"}[i%2])
	}
	var rep campaign.ImportReport
	if st := api.call("POST", "/admin/v1/merchants/import", "text/csv", strings.NewReader(csv.String()), &rep); st != 200 ||
		rep.Rows != merchants || rep.Created+rep.Updated != merchants || rep.Rejected != 0 {
		t.Fatalf("import: %d %+v", st, rep)
	}

	tk, err := auth.NewTokens([]byte(testTokenSecret), time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	var online []string
	for i := 0; i < merchants; i += 50 {
		online = append(online, ids[i])
	}

	var c campaign.Campaign
	spec := campaign.Spec{Name: "e2e", Rate: 2000, Audience: campaign.Audience{Segment: &campaign.Segment{Tags: []string{"e2e"}}},
		Message: campaign.Message{Title: "Hi {{.Name}}", Body: "Spring offer in {{.City}}",
			Action: &campaign.Action{Label: "Refresh", Type: "listing.refresh", Target: "L{{.ID}}-01"}}}
	if st := api.json("POST", "/admin/v1/campaigns", spec, &c); st != 201 {
		t.Fatalf("create: %d", st)
	}
	inboxes := map[string]*campaignInbox{}
	for _, id := range online {
		inboxes[id] = watchInbox(dialMerchant(t, s, tk, id), c.ID)
	}
	if out := cli("start", c.ID); !strings.Contains(out, "running") {
		t.Fatalf("campaign start: %q", out)
	}
	// Paused and resumed from the terminal (the worker tests show nothing goes out while
	// paused).
	api.waitCampaign(c.ID, "some sent", func(c campaign.Campaign) bool { return c.Stats.Sent > 0 })
	if out := cli("pause", c.ID, "--reason", "checking the copy"); !strings.Contains(out, "paused") {
		t.Fatalf("campaign pause: %q", out)
	}
	if out := cli("show", c.ID); !strings.Contains(out, "checking the copy") || !strings.Contains(out, "targeted 10000") {
		t.Fatalf("campaign show: %s", out)
	}
	cli("resume", c.ID)
	api.waitCampaign(c.ID, "a quarter sent", func(c campaign.Campaign) bool { return c.Stats.Sent >= merchants/4 })
	p.kill()
	mid := time.Now()
	p = start(t, "all again", env, []string{tcp, edgeAddr, adminAddr}, args...)
	// The terminal watch follows it to the end, one line per sample off a terminal.
	watch := cli("watch", c.ID, "--every", "200ms")
	if lines := strings.Split(strings.TrimSpace(watch), "\n"); !strings.Contains(lines[len(lines)-1], "100.0%") ||
		!strings.Contains(lines[len(lines)-1], "finished") {
		t.Fatalf("campaign watch ended with %q", lines[len(lines)-1])
	}
	done := api.campaign(c.ID)
	if done.State != campaign.StateFinished || done.Stats.Sent != merchants || done.Stats.Targeted != merchants ||
		done.Stats.Failed+done.Stats.Skipped+done.Stats.Pending != 0 {
		t.Fatalf("%s, stats %+v", done.State, done.Stats)
	}
	// The cap: 10,000 at 2,000/s cannot take less than ~5 s, crash or not.
	if took := done.FinishedAt.Sub(*done.StartedAt); took < 4500*time.Millisecond {
		t.Fatalf("10000 at 2000/s took %v", took)
	}
	t.Logf("finished %v after the restart", time.Since(mid))

	// Every connected app shows the message once (pushed, or synced after the restart);
	// a few read it.
	var readers int
	for i, id := range online {
		in := inboxes[id]
		m := in.first(t)
		var r campaign.Rendered
		if err := json.Unmarshal(m.Body, &r); err != nil || r.Title != fmt.Sprintf("Hi Shop %d", index[id]) ||
			r.Action == nil || r.Action.Method != "POST" || r.Action.Path != "/v1/listings/L"+id+"-01/refresh" {
			t.Fatalf("%s got %s", id, m.Body)
		}
		if i%4 == 0 {
			if _, err := in.c.MarkRead(t.Context(), m.ConvID, m.ConvSeq); err != nil {
				t.Fatalf("%s read: %v", id, err)
			}
			readers++
		}
	}
	// m1001 taps the button: the edge performs the action and counts the click, once.
	tok, _, err := tk.Issue("m1001", "merchant")
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		req, _ := http.NewRequest("POST", s.edge+"/v1/listings/Lm1001-01/refresh", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set(campaign.ClickHeader, c.ID)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("the button's action: %d %s", resp.StatusCode, b)
		}
	}
	// Offline merchants get it on their next sync.
	late := []string{"e00001", "e04999", "e09999"}
	for _, id := range late {
		in := watchInbox(dialMerchant(t, s, tk, id), c.ID)
		in.first(t)
		inboxes[id] = in
	}
	// The stats say what the apps saw: each connected device acknowledged (auto ack), the
	// readers read, one merchant clicked.
	final := api.waitCampaign(c.ID, "receipts", func(c campaign.Campaign) bool {
		return c.Stats.Delivered == int64(len(online)+len(late)) && c.Stats.Read == int64(readers) && c.Stats.Clicked == 1
	})
	for id, in := range inboxes {
		if n := in.count(); n != 1 {
			t.Fatalf("%s shows the campaign %d times", id, n)
		}
	}
	p.stop()
	t.Logf("stats %+v", final.Stats)

	// What is stored: one message per merchant, never two.
	db, err := sql.Open(driver, imDSN)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var users, msgs int
	if err := db.QueryRow(`SELECT count(DISTINCT recipient), count(*) FROM messages WHERE sender = 'campaign:' || `+placeholder(driver), c.ID).Scan(&users, &msgs); err != nil {
		t.Fatal(err)
	}
	if users != merchants || msgs != merchants {
		t.Fatalf("stored %d messages for %d merchants, want %d each", msgs, users, merchants)
	}
}

func placeholder(driver string) string {
	if driver == "pgx" {
		return "$1"
	}
	return "?"
}
