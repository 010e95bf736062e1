package admin

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bangbang-im/bangbang/gen/common"
	"github.com/bangbang-im/bangbang/marketing/campaign"
)

// draftJSON is a valid campaign spec as a client writes it, to be bent by each case.
func draftJSON() map[string]any {
	return map[string]any{
		"name":     "Spring",
		"audience": map[string]any{"merchant_ids": []string{"m1", "m2"}},
		"message":  map[string]any{"title": "Hi {{.Name}}", "body": "Buyers in {{.City}}"},
	}
}

// Bad input is 422 naming the field, and nothing is stored; malformed JSON and unknown
// fields are 400.
func TestCampaignInputIsChecked(t *testing.T) {
	h := newHarness(t, sqliteStore(t))
	h.merchant("m1", "Alice", "Paris")
	h.merchant("m2", "Bob", "Lyon")
	msg := func(sp map[string]any) map[string]any { return sp["message"].(map[string]any) }
	for _, tc := range []struct {
		name   string
		bend   func(map[string]any)
		status int
		field  string
	}{
		{"template that does not parse", func(sp map[string]any) { msg(sp)["body"] = "Hi {{.Name" }, 422, "message.body"},
		{"unknown template field", func(sp map[string]any) { msg(sp)["title"] = "Hi {{.Phone}}" }, 422, "message.title"},
		{"unknown field in a branch", func(sp map[string]any) { msg(sp)["body"] = "{{if .City}}{{.Owner}}{{end}}" }, 422, "message.body"},
		{"empty audience", func(sp map[string]any) { sp["audience"] = map[string]any{} }, 422, "audience"},
		{"empty segment", func(sp map[string]any) { sp["audience"] = map[string]any{"segment": map[string]any{}} }, 422, "audience"},
		{"rate 0", func(sp map[string]any) { sp["rate"] = 0 }, 422, "rate"},
		{"rate 1e9", func(sp map[string]any) { sp["rate"] = 1e9 }, 422, "rate"},
		{"rate 1000000000", func(sp map[string]any) { sp["rate"] = 1_000_000_000 }, 422, "rate"},
		{"rate 2.5", func(sp map[string]any) { sp["rate"] = 2.5 }, 422, "rate"},
		{"rate -1", func(sp map[string]any) { sp["rate"] = -1 }, 422, "rate"},
		{"send_at in the past", func(sp map[string]any) { sp["send_at"] = time.Now().Add(-time.Minute) }, 422, "send_at"},
		{"unknown merchant", func(sp map[string]any) { sp["audience"] = map[string]any{"merchant_ids": []string{"m1", "nobody"}} }, 422, "audience.merchant_ids[1]"},
		{"unknown action", func(sp map[string]any) { msg(sp)["action"] = map[string]any{"label": "Go", "type": "rocket"} }, 422, "message.action.type"},
		{"empty name", func(sp map[string]any) { sp["name"] = "  " }, 422, "name"},
		{"name of the wrong type", func(sp map[string]any) { sp["name"] = 5 }, 422, "name"},
		{"unknown field", func(sp map[string]any) { sp["colour"] = "red" }, 400, ""},
		{"unknown nested field", func(sp map[string]any) { msg(sp)["footer"] = "x" }, 400, ""},
		{"send_at not a time", func(sp map[string]any) { sp["send_at"] = "tomorrow" }, 400, ""},
	} {
		sp := draftJSON()
		tc.bend(sp)
		a := h.do("POST", "/admin/v1/campaigns", key, sp)
		e := apiError(t, a)
		wantCode := map[int]string{400: CodeBadRequest, 422: CodeInvalid}[tc.status]
		if a.status != tc.status || e.Code != wantCode || e.Field != tc.field {
			t.Errorf("%s: %d %+v, want %d naming %q", tc.name, a.status, e, tc.status, tc.field)
		}
		if tc.status == 422 && !strings.HasPrefix(e.Message, tc.field+": ") {
			t.Errorf("%s: message %q does not name %s", tc.name, e.Message, tc.field)
		}
	}
	if list, _ := h.store.ListCampaigns(t.Context(), "", "", 0); len(list) != 0 {
		t.Fatalf("refused input stored %d campaigns", len(list))
	}

	// The same checks guard an edit; the draft is left as it was.
	var c campaign.Campaign
	h.ok(201, &c, "POST", "/admin/v1/campaigns", key, draftJSON())
	if c.Rate != campaign.DefaultRate || c.State != campaign.StateDraft {
		t.Fatalf("created %+v", c)
	}
	sp := draftJSON()
	msg(sp)["body"] = "{{.Name"
	if a := h.do("PUT", "/admin/v1/campaigns/"+c.ID, key, sp); a.status != 422 || apiError(t, a).Field != "message.body" {
		t.Fatalf("bad edit: %d %s", a.status, a.body)
	}
	if got, _ := h.store.GetCampaign(t.Context(), c.ID); got.Message.Body != "Buyers in {{.City}}" {
		t.Fatalf("a refused edit changed the draft: %q", got.Message.Body)
	}
	// Malformed JSON and trailing data.
	for _, body := range []string{`{"name": "x",`, `{"name": "x"} {"name": "y"}`, `[1, 2]`, ``, `nul`} {
		a := h.do("PUT", "/admin/v1/campaigns/"+c.ID, key, body, "Content-Type", "application/json")
		if a.status != 400 || apiError(t, a).Code != CodeBadRequest {
			t.Errorf("body %q: %d %s, want 400", body, a.status, a.body)
		}
	}
}

// A body over MaxJSONBody is refused with 413, whether its length is declared or it
// comes chunked; one of exactly MaxJSONBody is read.
func TestJSONBodyLimit(t *testing.T) {
	h := newHarness(t, sqliteStore(t))
	h.merchant("m1", "Alice", "Paris")
	js, err := json.Marshal(spec("big", "m1"))
	if err != nil {
		t.Fatal(err)
	}
	padded := func(n int) string { return string(js) + strings.Repeat(" ", n-len(js)) }
	h.ok(201, nil, "POST", "/admin/v1/campaigns", key, padded(MaxJSONBody), "Content-Type", "application/json")
	for name, body := range map[string]io.Reader{
		"declared":    strings.NewReader(padded(MaxJSONBody + 1)),
		"chunked":     io.MultiReader(strings.NewReader(padded(MaxJSONBody + 1))),
		"3x, drained": io.MultiReader(strings.NewReader(padded(3 * MaxJSONBody))),
	} {
		a := h.do("POST", "/admin/v1/campaigns", key, body, "Content-Type", "application/json")
		if e := apiError(t, a); a.status != 413 || e.Code != CodePayloadTooLarge {
			t.Errorf("%s: %d %+v, want 413", name, a.status, e)
		}
	}
	if list, _ := h.store.ListCampaigns(t.Context(), "", "", 0); len(list) != 1 {
		t.Fatalf("%d campaigns stored, want 1", len(list))
	}
	// The server still answers on new connections.
	h.ok(200, nil, "GET", "/admin/v1/campaigns", key, nil)
}

// A refused body is read no further than maxDrain: the client sending a huge one gets its
// answer and the connection closes, though the body is far from its end. So too on the
// streamed import route, whatever refuses the body.
func TestRefusedBodyIsNotReadToItsEnd(t *testing.T) {
	h := newHarness(t, sqliteStore(t))
	_, viewer := h.newKey(campaign.RoleViewer)
	for _, tc := range []struct {
		path, key, contentType string
		status                 int
	}{
		{"/admin/v1/campaigns", key, "application/json", 413},
		{importRoute, viewer, "text/csv", 403},
		{importRoute, "", "text/csv", 401},
		{importRoute, key, "text/plain", 415},
	} {
		conn, err := net.Dial("tcp", h.s.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if err := conn.SetDeadline(time.Now().Add(5 * time.Second)); err != nil {
			t.Fatal(err)
		}
		// It declares 100 MiB and sends exactly what the server reads of it, so the
		// server's close leaves nothing unread (which would reset the connection under the
		// answer).
		head := "POST " + tc.path + " HTTP/1.1\r\nHost: admin\r\nContent-Type: " + tc.contentType +
			"\r\nContent-Length: " + strconv.Itoa(100<<20) + "\r\n"
		if tc.key != "" {
			head += "Authorization: Bearer " + tc.key + "\r\n"
		}
		if _, err := io.WriteString(conn, head+"\r\n"+strings.Repeat(" ", maxDrain+1)); err != nil {
			t.Fatal(err)
		}
		br := bufio.NewReader(conn)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("POST %s: %v", tc.path, err)
		}
		body, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != tc.status || !resp.Close {
			t.Fatalf("POST %s: %d close=%v %s (%v), want %d", tc.path, resp.StatusCode, resp.Close, body, err, tc.status)
		}
		// The server closes the connection now rather than wait for the rest of the body.
		if _, err := br.ReadByte(); err != io.EOF {
			t.Fatalf("POST %s: after the answer: %v, want EOF", tc.path, err)
		}
		observed.Record("POST", tc.path, resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
}

// A change the campaign's state does not allow is 409 naming the state.
func TestInvalidTransitions(t *testing.T) {
	h := newHarness(t, sqliteStore(t))
	h.merchant("m1", "Alice", "Paris")
	sp := spec("t", "m1")
	draft := h.campaignIn(campaign.StateDraft, sp).ID
	running := h.campaignIn(campaign.StateRunning, sp).ID
	cancelled := h.campaignIn(campaign.StateCancelled, sp).ID
	for _, tc := range []struct {
		method, id, op string
		body           any
		state          campaign.State
	}{
		{"POST", draft, "resume", nil, campaign.StateDraft},
		{"POST", draft, "pause", nil, campaign.StateDraft},
		{"POST", running, "start", nil, campaign.StateRunning},
		{"POST", running, "resume", nil, campaign.StateRunning},
		{"PUT", running, "", sp, campaign.StateRunning},
		{"DELETE", running, "", nil, campaign.StateRunning},
		{"POST", cancelled, "cancel", nil, campaign.StateCancelled},
		{"POST", cancelled, "pause", map[string]string{"reason": "x"}, campaign.StateCancelled},
		{"POST", cancelled, "start", nil, campaign.StateCancelled},
		{"DELETE", cancelled, "", nil, campaign.StateCancelled},
	} {
		path := "/admin/v1/campaigns/" + tc.id
		if tc.op != "" {
			path += "/" + tc.op
		}
		a := h.do(tc.method, path, key, tc.body)
		e := apiError(t, a)
		if a.status != 409 || e.Code != CodeInvalidState || e.State != string(tc.state) || !strings.Contains(e.Message, string(tc.state)) {
			t.Errorf("%s %s (%s): %d %+v, want 409 naming %s", tc.method, path, tc.state, a.status, e, tc.state)
		}
	}
	for path, body := range map[string]any{"/admin/v1/campaigns/cmp_nope/start": nil,
		"/admin/v1/campaigns/cmp_nope/preview": map[string]string{"merchant_id": "m1"}} {
		if a := h.do("POST", path, key, body); a.status != 404 || apiError(t, a).Code != CodeNotFound {
			t.Errorf("POST %s: %d %s, want 404", path, a.status, a.body)
		}
	}
	// start takes no input but an empty object.
	if a := h.do("POST", "/admin/v1/campaigns/"+draft+"/start", key, map[string]string{"force": "yes"}); a.status != 400 {
		t.Errorf("start with a body: %d", a.status)
	}
	var c campaign.Campaign
	h.ok(200, &c, "POST", "/admin/v1/campaigns/"+draft+"/start", key, "{}", "Content-Type", "application/json")
	if c.State != campaign.StateRunning || c.StartedAt == nil {
		t.Fatalf("started %+v", c)
	}
}

func TestPreviewRenders(t *testing.T) {
	h := newHarness(t, sqliteStore(t))
	h.merchant("m1", "Alice", "Paris")
	c := h.campaignIn(campaign.StateDraft, spec("p", "m1"))
	var r campaign.Rendered
	h.ok(200, &r, "POST", "/admin/v1/campaigns/"+c.ID+"/preview", key, map[string]string{"merchant_id": "m1"})
	want := campaign.Rendered{CampaignID: c.ID, Title: "Hello Alice", Body: "New buyers in Paris this week.",
		Action: &campaign.RenderedAction{Label: "Refresh", Type: "listing.refresh", Method: "POST", Path: "/v1/listings/L-m1/refresh"}}
	if r.CampaignID != want.CampaignID || r.Title != want.Title || r.Body != want.Body || r.Test || r.Action == nil || *r.Action != *want.Action {
		t.Fatalf("preview %+v, want %+v", r, want)
	}
	for _, id := range []string{"nobody", ""} {
		if a := h.do("POST", "/admin/v1/campaigns/"+c.ID+"/preview", key, map[string]string{"merchant_id": id}); a.status != 422 || apiError(t, a).Field != "merchant_id" {
			t.Errorf("preview for %q: %d %s", id, a.status, a.body)
		}
	}
	if pushes, _ := h.logic.calls(); len(pushes) != 0 {
		t.Fatalf("a preview pushed %d times", len(pushes))
	}
}

// A test-send pushes the message, marked as a test, as MARKETING, in any state, and
// leaves the campaign's stats and recipients alone.
func TestTestSend(t *testing.T) {
	h := newHarness(t, sqliteStore(t))
	h.merchant("m1", "Alice", "Paris")
	h.merchant("m2", "Bob", "Lyon")
	_, author := h.newKey(campaign.RoleAuthor)
	for _, state := range []campaign.State{campaign.StateDraft, campaign.StateRunning, campaign.StateCancelled} {
		c := h.campaignIn(state, spec("t", "m1", "m2"))
		before, _ := h.store.GetCampaign(t.Context(), c.ID)
		pushesBefore, _ := h.logic.calls()
		var out struct{ Results []campaign.TestResult }
		h.ok(200, &out, "POST", "/admin/v1/campaigns/"+c.ID+"/test", author, map[string][]string{"merchant_ids": {"m2", "m1"}})
		if len(out.Results) != 2 || out.Results[0].MerchantID != "m2" || out.Results[1].MerchantID != "m1" ||
			out.Results[0].MsgID == "" || out.Results[0].OnlineDevices != 1 || out.Results[0].Error != "" {
			t.Fatalf("%s: results %+v", state, out.Results)
		}
		pushes, _ := h.logic.calls()
		if len(pushes) != len(pushesBefore)+1 {
			t.Fatalf("%s: %d pushes, want one more than %d", state, len(pushes), len(pushesBefore))
		}
		p := pushes[len(pushes)-1]
		if p.Kind != int32(common.MessageKind_MARKETING) || p.ContentType != campaign.ContentType ||
			strings.Join(p.Users, ",") != "m2,m1" || len(p.Bodies) != 2 {
			t.Fatalf("%s: push %+v", state, p)
		}
		var r campaign.Rendered
		if err := json.Unmarshal(p.Bodies[0], &r); err != nil || !r.Test || r.Title != "Hello Bob" || r.CampaignID != c.ID {
			t.Fatalf("%s: pushed body %s (%v)", state, p.Bodies[0], err)
		}
		after, _ := h.store.GetCampaign(t.Context(), c.ID)
		if after.Stats != before.Stats || after.State != before.State {
			t.Fatalf("%s: a test-send changed the campaign: %+v then %+v", state, before.Stats, after.Stats)
		}
		recips, err := h.store.Recipients(t.Context(), c.ID, nil, 0, 0)
		if err != nil || len(recips) != int(before.Stats.Targeted) {
			t.Fatalf("%s: recipients %+v %v", state, recips, err)
		}
	}
	c := h.campaignIn(campaign.StateDraft, spec("t", "m1"))
	pushesBefore, _ := h.logic.calls()
	for _, tc := range []struct {
		ids   []string
		field string
	}{{[]string{"m1", "nobody"}, "merchant_ids[1]"}, {nil, "merchant_ids"}} {
		a := h.do("POST", "/admin/v1/campaigns/"+c.ID+"/test", author, map[string][]string{"merchant_ids": tc.ids})
		if a.status != 422 || apiError(t, a).Field != tc.field {
			t.Errorf("test-send to %q: %d %s, want 422 naming %s", tc.ids, a.status, a.body, tc.field)
		}
	}
	if pushes, _ := h.logic.calls(); len(pushes) != len(pushesBefore) {
		t.Fatal("a refused test-send pushed")
	}
	entries, _ := h.store.Audit(t.Context(), campaign.AuditQuery{Action: "campaign.test"})
	if len(entries) != 3 {
		t.Fatalf("%d campaign.test audit entries, want 3", len(entries))
	}
}

// traceID is the trace an answer's traceresponse header names.
func traceID(t *testing.T, a answer) string {
	t.Helper()
	parts := strings.Split(a.header.Get("traceresponse"), "-")
	if len(parts) != 4 || len(parts[1]) != 32 {
		t.Fatalf("traceresponse %q", a.header.Get("traceresponse"))
	}
	return parts[1]
}

// Every change is in the audit log: who, what, before and after, and the request's trace.
func TestChangesAreAudited(t *testing.T) {
	h := newHarness(t, sqliteStore(t))
	authorKey, author := h.newKey(campaign.RoleAuthor)
	senderKey, sender := h.newKey(campaign.RoleSender)
	type change struct {
		actor, action, before, after string // before/after: substrings of the JSON, "" for none
		trace                        string
	}
	var changes []change
	note := func(a answer, actor, action, before, after string) {
		changes = append(changes, change{actor, action, before, after, traceID(t, a)})
	}

	a := h.ok(201, nil, "POST", "/admin/v1/merchants", author, map[string]any{"id": "m1", "name": "Alice", "city": "Paris", "category": "housing", "tags": []string{"VIP"}})
	note(a, authorKey.ID, "merchant.create", "", `"name":"Alice"`)
	a = h.ok(200, nil, "PUT", "/admin/v1/merchants/m1", author, map[string]any{"name": "Alice B", "city": "Nice", "category": "housing", "tags": []string{}})
	note(a, authorKey.ID, "merchant.update", `"city":"Paris"`, `"city":"Nice"`)
	h.merchant("m2", "Bob", "Lyon")
	a = h.ok(204, nil, "DELETE", "/admin/v1/merchants/m2", author, nil)
	note(a, authorKey.ID, "merchant.delete", `"name":"Bob"`, "")

	var c campaign.Campaign
	a = h.ok(201, &c, "POST", "/admin/v1/campaigns", author, spec("v1", "m1"))
	note(a, authorKey.ID, "campaign.create", "", `"name":"v1"`)
	a = h.ok(200, nil, "PUT", "/admin/v1/campaigns/"+c.ID, author, spec("v2", "m1"))
	note(a, authorKey.ID, "campaign.update", `"name":"v1"`, `"name":"v2"`)
	a = h.ok(200, nil, "POST", "/admin/v1/campaigns/"+c.ID+"/start", sender, nil)
	note(a, senderKey.ID, "campaign.start", `"state":"draft"`, `"state":"running"`)
	a = h.ok(200, nil, "POST", "/admin/v1/campaigns/"+c.ID+"/pause", sender, map[string]string{"reason": "wrong city"})
	note(a, senderKey.ID, "campaign.pause", `"state":"running"`, `"pause_reason":"wrong city"`)
	a = h.ok(200, nil, "POST", "/admin/v1/campaigns/"+c.ID+"/resume", sender, nil)
	note(a, senderKey.ID, "campaign.resume", `"state":"paused"`, `"state":"running"`)
	a = h.ok(200, nil, "POST", "/admin/v1/campaigns/"+c.ID+"/cancel", sender, nil)
	note(a, senderKey.ID, "campaign.cancel", `"state":"running"`, `"state":"cancelled"`)
	var d campaign.Campaign
	h.ok(201, &d, "POST", "/admin/v1/campaigns", author, spec("doomed", "m1"))
	a = h.ok(204, nil, "DELETE", "/admin/v1/campaigns/"+d.ID, author, nil)
	note(a, authorKey.ID, "campaign.delete", `"name":"doomed"`, "")

	var k struct{ Key campaign.Key }
	a = h.ok(201, &k, "POST", "/admin/v1/keys", key, map[string]string{"name": "ops", "role": "viewer"})
	note(a, "bootstrap", "key.create", "", `"role":"viewer"`)
	a = h.ok(200, nil, "DELETE", "/admin/v1/keys/"+k.Key.ID, key, nil)
	note(a, "bootstrap", "key.revoke", `"name":"ops"`, `"revoked_at"`)

	targets := map[string]string{"merchant": "merchant:", "campaign": "campaign:", "key": "key:"}
	for _, ch := range changes {
		var out struct{ Entries []campaign.AuditEntry }
		h.ok(200, &out, "GET", "/admin/v1/audit?action="+ch.action+"&limit=1000", key, nil)
		var found *campaign.AuditEntry
		for i, e := range out.Entries {
			if e.TraceID == ch.trace {
				found = &out.Entries[i]
			}
		}
		if found == nil {
			t.Errorf("%s by %s: no audit entry with trace %s in %+v", ch.action, ch.actor, ch.trace, out.Entries)
			continue
		}
		prefix := targets[strings.Split(ch.action, ".")[0]]
		if found.ActorID != ch.actor || found.ActorName == "" || !strings.HasPrefix(found.Target, prefix) ||
			!strings.Contains(string(found.Before), ch.before) || !strings.Contains(string(found.After), ch.after) ||
			(ch.before == "") != (len(found.Before) == 0) || (ch.after == "") != (len(found.After) == 0) {
			t.Errorf("%s: entry %+v before %s after %s; want actor %s, before ~%q, after ~%q",
				ch.action, found, found.Before, found.After, ch.actor, ch.before, ch.after)
		}
	}
	// Filters and pages.
	var bySender struct{ Entries []campaign.AuditEntry }
	h.ok(200, &bySender, "GET", "/admin/v1/audit?actor="+senderKey.ID, key, nil)
	if len(bySender.Entries) != 4 || bySender.Entries[0].Action != "campaign.cancel" || bySender.Entries[3].Action != "campaign.start" {
		t.Fatalf("the sender's entries, newest first: %+v", bySender.Entries)
	}
	var ofCampaign struct{ Entries []campaign.AuditEntry }
	h.ok(200, &ofCampaign, "GET", "/admin/v1/audit?target=campaign:"+c.ID+"&action=campaign.", key, nil)
	if len(ofCampaign.Entries) != 6 {
		t.Fatalf("entries of %s: %+v", c.ID, ofCampaign.Entries)
	}
	var seen []string
	next := ""
	for range 10 {
		var page struct {
			Entries []campaign.AuditEntry
			Next    string
		}
		path := "/admin/v1/audit?target=campaign:" + c.ID + "&limit=4"
		if next != "" {
			path += "&before=" + next
		}
		h.ok(200, &page, "GET", path, key, nil)
		for _, e := range page.Entries {
			seen = append(seen, e.Action)
		}
		if next = page.Next; next == "" {
			break
		}
	}
	if strings.Join(seen, ",") != "campaign.cancel,campaign.resume,campaign.pause,campaign.start,campaign.update,campaign.create" {
		t.Fatalf("paged entries %q", seen)
	}
	for _, q := range []string{"limit=0", "limit=1001", "limit=x", "before=-1", "before=x"} {
		if a := h.do("GET", "/admin/v1/audit?"+q, key, nil); a.status != 400 {
			t.Errorf("audit?%s: %d, want 400", q, a.status)
		}
	}
}

// Campaign lists, progress and recipients: filters, paging and refusals.
func TestCampaignReads(t *testing.T) {
	h := newHarness(t, sqliteStore(t))
	h.merchant("m1", "Alice", "Paris")
	draft := h.campaignIn(campaign.StateDraft, spec("d", "m1"))
	running := h.campaignIn(campaign.StateRunning, spec("r", "m1"))
	var list struct {
		Campaigns []campaign.Campaign
		Next      string
	}
	h.ok(200, &list, "GET", "/admin/v1/campaigns?state=running", key, nil)
	if len(list.Campaigns) != 1 || list.Campaigns[0].ID != running.ID || list.Next != "" {
		t.Fatalf("running campaigns %+v", list)
	}
	h.ok(200, &list, "GET", "/admin/v1/campaigns?limit=1", key, nil)
	if len(list.Campaigns) != 1 || list.Next != list.Campaigns[0].ID {
		t.Fatalf("a page of one: %+v", list)
	}
	var got campaign.Campaign
	h.ok(200, &got, "GET", "/admin/v1/campaigns/"+draft.ID, key, nil)
	if got.ID != draft.ID || got.Name != "d" || got.State != campaign.StateDraft || got.Message.Title != "Hello {{.Name}}" {
		t.Fatalf("campaign %+v", got)
	}
	var points struct{ Points []campaign.Progress }
	h.ok(200, &points, "GET", "/admin/v1/campaigns/"+running.ID+"/progress?since="+time.Now().Add(-time.Hour).UTC().Format(time.RFC3339), key, nil)
	var recips struct {
		Recipients []campaign.Recipient
		Next       string
	}
	h.ok(200, &recips, "GET", "/admin/v1/campaigns/"+running.ID+"/recipients?status=sent&after=0&limit=10", key, nil)
	if len(recips.Recipients) != 0 || recips.Next != "" {
		t.Fatalf("sent recipients before any send: %+v", recips)
	}
	for _, path := range []string{
		"/admin/v1/campaigns?state=done", "/admin/v1/campaigns?limit=0",
		"/admin/v1/campaigns/" + running.ID + "/progress?since=yesterday",
		"/admin/v1/campaigns/" + running.ID + "/recipients?status=read",
		"/admin/v1/campaigns/" + running.ID + "/recipients?after=-2",
		"/admin/v1/campaigns/" + running.ID + "/recipients?limit=5000",
	} {
		if a := h.do("GET", path, key, nil); a.status != 400 || apiError(t, a).Code != CodeBadRequest {
			t.Errorf("GET %s: %d %s, want 400", path, a.status, a.body)
		}
	}
	for _, path := range []string{"/admin/v1/campaigns/cmp_nope", "/admin/v1/campaigns/cmp_nope/progress", "/admin/v1/campaigns/cmp_nope/recipients"} {
		if a := h.do("GET", path, key, nil); a.status != 404 || apiError(t, a).Code != CodeNotFound {
			t.Errorf("GET %s: %d %s, want 404", path, a.status, a.body)
		}
	}
	if a := h.do(http.MethodDelete, "/admin/v1/campaigns/cmp_nope", key, nil); a.status != 404 {
		t.Errorf("DELETE unknown: %d", a.status)
	}
}

// The API takes every field of a campaign spec: specInput has the JSON fields of
// campaign.Spec, no more, no fewer.
func TestSpecInputMatchesSpec(t *testing.T) {
	names := func(v any) []string {
		var out []string
		rt := reflect.TypeOf(v)
		for i := range rt.NumField() {
			name, _, _ := strings.Cut(rt.Field(i).Tag.Get("json"), ",")
			out = append(out, name)
		}
		slices.Sort(out)
		return out
	}
	if got, want := names(specInput{}), names(campaign.Spec{}); !slices.Equal(got, want) {
		t.Fatalf("specInput has %q, campaign.Spec %q", got, want)
	}
}
