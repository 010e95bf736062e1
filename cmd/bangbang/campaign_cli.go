package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/bangbang-im/bangbang/marketing/campaign"
)

const campaignCLIUsage = `usage: bangbang campaign <subcommand> [ID] [flags]

  ls                 campaigns, newest first (--state STATE)
  show ID            one campaign: its state, audience, message and stats
  start ID           schedule or start it (a draft)
  pause ID           pause it (--reason TEXT)
  resume ID          resume it
  cancel ID          cancel it
  watch ID           a live progress bar: rate, counts, ETA; ends when the campaign does

flags: --admin URL (the staff API, http://127.0.0.1:8701), --admin-key KEY (a staff key;
BANGBANG_ADMIN_KEY), and --state, --reason, --every where named.
`

// runCampaignCLI is `bangbang campaign SUBCOMMAND`: a terminal client of the staff API.
func runCampaignCLI(ctx context.Context, sub string, args []string, stdout, stderr io.Writer) error {
	var id string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		id, args = args[0], args[1:]
	}
	cl := adminClient{base: "http://127.0.0.1:8701", http: &http.Client{Timeout: 30 * time.Second}}
	var state, reason string
	every := time.Second
	f := newFlagSet("campaign "+sub, stderr)
	f.str(&cl.base, "admin", "staff API base URL")
	f.str(&cl.key, "admin-key", "staff key")
	switch sub {
	case "ls":
		f.str(&state, "state", "only campaigns in this state")
	case "pause":
		f.str(&reason, "reason", "why, kept with the campaign and in the audit log")
	case "watch":
		f.duration(&every, "every", "how often to refresh")
	case "show", "start", "resume", "cancel":
	default:
		fmt.Fprint(stderr, campaignCLIUsage)
		return fmt.Errorf("unknown campaign subcommand %q", sub)
	}
	if err := f.parse(args); err != nil {
		return err
	}
	if (sub == "ls") != (id == "") {
		fmt.Fprint(stderr, campaignCLIUsage)
		if id == "" {
			return fmt.Errorf("campaign %s: which campaign? (an ID)", sub)
		}
		return fmt.Errorf("campaign ls takes no ID")
	}
	if every <= 0 {
		return errors.New("--every must be positive")
	}
	cl.base = strings.TrimRight(cl.base, "/")
	switch sub {
	case "ls":
		return campaignList(ctx, cl, state, stdout)
	case "show":
		var c campaign.Campaign
		if err := cl.do(ctx, http.MethodGet, "/admin/v1/campaigns/"+url.PathEscape(id), nil, &c); err != nil {
			return err
		}
		printCampaign(stdout, c)
		return nil
	case "watch":
		return campaignWatch(ctx, cl, id, every, stdout, isTerminal(stdout))
	default: // start, pause, resume, cancel
		var body any
		if sub == "pause" && reason != "" {
			body = map[string]string{"reason": reason}
		}
		var c campaign.Campaign
		if err := cl.do(ctx, http.MethodPost, "/admin/v1/campaigns/"+url.PathEscape(id)+"/"+sub, body, &c); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s %s: %s\n", c.ID, c.Name, c.State)
		return nil
	}
}

// adminClient calls the staff API with a key.
type adminClient struct {
	base, key string
	http      *http.Client
}

// apiError is the staff API's error body, as a Go error.
type apiError struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field"`
	State   string `json:"state"`
}

func (e *apiError) Error() string {
	msg := fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message)
	if e.Field != "" && !strings.Contains(e.Message, e.Field) {
		msg += " (field " + e.Field + ")"
	}
	return msg
}

func (cl adminClient) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, cl.base+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+cl.key)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := cl.http.Do(req)
	if err != nil {
		return fmt.Errorf("staff API: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("staff API: %w", err)
	}
	if resp.StatusCode/100 != 2 {
		e := &apiError{Status: resp.StatusCode}
		if json.Unmarshal(raw, e) != nil || e.Code == "" {
			e.Code, e.Message = "error", strings.TrimSpace(string(raw))
		}
		return e
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("staff API: decode %s %s: %w", method, path, err)
	}
	return nil
}

func campaignList(ctx context.Context, cl adminClient, state string, stdout io.Writer) error {
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATE\tNAME\tTARGETED\tSENT\tDELIVERED\tREAD\tCLICKED\tFAILED\tCREATED")
	after := ""
	for {
		q := url.Values{"limit": {"100"}}
		if state != "" {
			q.Set("state", state)
		}
		if after != "" {
			q.Set("after", after)
		}
		var page struct {
			Campaigns []campaign.Campaign `json:"campaigns"`
			Next      string              `json:"next"`
		}
		if err := cl.do(ctx, http.MethodGet, "/admin/v1/campaigns?"+q.Encode(), nil, &page); err != nil {
			return err
		}
		for _, c := range page.Campaigns {
			s := c.Stats
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%s\n", c.ID, c.State, c.Name, s.Targeted, s.Sent,
				s.Delivered, s.Read, s.Clicked, s.Failed, c.CreatedAt.Local().Format("2006-01-02 15:04"))
		}
		if page.Next == "" {
			break
		}
		after = page.Next
	}
	return tw.Flush()
}

func printCampaign(w io.Writer, c campaign.Campaign) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	row := func(k, format string, args ...any) { fmt.Fprintf(tw, "%s\t"+format+"\n", append([]any{k}, args...)...) }
	row("id", "%s", c.ID)
	row("name", "%s", c.Name)
	row("state", "%s", c.State)
	if c.PauseReason != "" {
		row("paused because", "%s", c.PauseReason)
	}
	var aud []string
	if n := len(c.Audience.MerchantIDs); n > 0 {
		aud = append(aud, fmt.Sprintf("%d merchant ids", n))
	}
	if seg := c.Audience.Segment; seg != nil {
		if len(seg.Cities) > 0 {
			aud = append(aud, "cities "+strings.Join(seg.Cities, "|"))
		}
		if len(seg.Categories) > 0 {
			aud = append(aud, "categories "+strings.Join(seg.Categories, "|"))
		}
		if len(seg.Tags) > 0 {
			aud = append(aud, "tags "+strings.Join(seg.Tags, "+"))
		}
	}
	row("audience", "%s", strings.Join(aud, ", "))
	row("title", "%s", c.Message.Title)
	row("body", "%s", c.Message.Body)
	if a := c.Message.Action; a != nil {
		row("button", "%s → %s %s", a.Label, a.Type, a.Target)
	}
	row("rate cap", "%d/s", c.Rate)
	if c.SendAt != nil {
		row("send at", "%s", c.SendAt.Local().Format(time.RFC3339))
	}
	row("created", "%s by %s", c.CreatedAt.Local().Format(time.RFC3339), c.CreatedBy)
	if c.StartedAt != nil {
		row("started", "%s", c.StartedAt.Local().Format(time.RFC3339))
	}
	if c.FinishedAt != nil {
		row("ended", "%s", c.FinishedAt.Local().Format(time.RFC3339))
	}
	s := c.Stats
	row("stats", "targeted %d  sent %d  delivered %d  read %d  clicked %d  failed %d  skipped %d  pending %d",
		s.Targeted, s.Sent, s.Delivered, s.Read, s.Clicked, s.Failed, s.Skipped, s.Pending)
	if c.State == campaign.StateRunning {
		row("rate", "%.0f/s", s.Rate)
	}
	_ = tw.Flush()
}

// campaignWatch polls the campaign and redraws its progress line until it ends
// (finished or cancelled). On a terminal the line is redrawn in place; elsewhere (a log,
// a pipe) each sample is a line of its own.
func campaignWatch(ctx context.Context, cl adminClient, id string, every time.Duration, w io.Writer, tty bool) error {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		var c campaign.Campaign
		if err := cl.do(ctx, http.MethodGet, "/admin/v1/campaigns/"+url.PathEscape(id), nil, &c); err != nil {
			if tty {
				fmt.Fprintln(w)
			}
			return err
		}
		line := progressLine(c, 30)
		if tty {
			fmt.Fprint(w, "\r\033[K"+line)
		} else {
			fmt.Fprintln(w, line)
		}
		if c.State == campaign.StateFinished || c.State == campaign.StateCancelled {
			if tty {
				fmt.Fprintln(w)
			}
			return nil
		}
		select {
		case <-ctx.Done():
			if tty {
				fmt.Fprintln(w)
			}
			return nil // ^C ends the watch, not the campaign
		case <-t.C:
		}
	}
}

// progressLine draws one campaign's progress: a bar of width cells over the recipients
// handled (sent, failed or skipped) out of those targeted, the counts, the rate while
// running and the time left at that rate.
func progressLine(c campaign.Campaign, width int) string {
	s := c.Stats
	done := s.Sent + s.Failed + s.Skipped
	frac := 0.0
	if s.Targeted > 0 {
		frac = math.Min(1, float64(done)/float64(s.Targeted))
	}
	cells := int(frac * float64(width))
	bar := strings.Repeat("█", cells) + strings.Repeat("░", width-cells)
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s %5.1f%%  %d/%d sent  %d delivered  %d read  %d clicked  %d failed",
		c.ID, bar, frac*100, s.Sent, s.Targeted, s.Delivered, s.Read, s.Clicked, s.Failed)
	if s.Skipped > 0 {
		fmt.Fprintf(&b, "  %d skipped", s.Skipped)
	}
	switch {
	case c.State == campaign.StateRunning && s.Targeted == 0:
		b.WriteString("  fixing the audience")
	case c.State == campaign.StateRunning:
		fmt.Fprintf(&b, "  %.0f/s", s.Rate)
		if s.Rate > 0 && s.Pending > 0 {
			eta := time.Duration(float64(s.Pending) / s.Rate * float64(time.Second))
			fmt.Fprintf(&b, "  ETA %s", eta.Round(time.Second))
		}
	case c.State == campaign.StatePaused:
		b.WriteString("  paused")
		if c.PauseReason != "" {
			b.WriteString(": " + c.PauseReason)
		}
	default:
		b.WriteString("  " + string(c.State))
		if c.State == campaign.StateScheduled && c.SendAt != nil {
			fmt.Fprintf(&b, " for %s", c.SendAt.Local().Format("15:04:05"))
		}
	}
	return b.String()
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// runAdminKeyCreate is `bangbang admin key create --role ROLE --name NAME`: a staff key
// written straight into the campaign store (the bootstrap of a deployment, or a key when
// the API is down), printed once. It is audited as made by the operator's shell.
func runAdminKeyCreate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c := defaults()
	var role, name string
	f := newFlagSet("admin key create", stderr)
	f.str(&c.DataDir, "data-dir", "directory of the embedded campaign store (campaigns.db) when no database URL is set")
	f.database(&c)
	f.str(&role, "role", "viewer, author, sender or admin")
	f.str(&name, "name", "who or what holds the key")
	if err := f.parse(args); err != nil {
		return err
	}
	r := campaign.Role(role)
	if !r.Valid() {
		return fmt.Errorf("--role: one of viewer, author, sender, admin (not %q)", role)
	}
	st, err := openCampaignStoreOpt(ctx, &c, campaign.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	who := "shell"
	if u := os.Getenv("USER"); u != "" {
		who = "shell of " + u
	}
	k, secret, err := st.CreateKey(ctx, campaign.Actor{KeyID: "cli", Name: who, Role: campaign.RoleAdmin}, name, r)
	if err != nil {
		return fmt.Errorf("create key: %w", err)
	}
	fmt.Fprintf(stdout, "key %s (%s, role %s), shown once:\n%s\n", k.ID, k.Name, k.Role, secret)
	return nil
}
