package campaign

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

const campaignColumns = `id, spec, state, pause_reason, created_by, created_at, updated_at, started_at, finished_at,
n_targeted, n_sent, n_delivered, n_read, n_clicked, n_failed, n_skipped, rate_milli, fixed`

func scanCampaign(row interface{ Scan(...any) error }) (Campaign, error) {
	c, _, err := scanCampaignFixed(row)
	return c, err
}

// scanCampaignFixed scans a campaign row, then extra columns into extra, and reports
// whether its audience is fixed.
func scanCampaignFixed(row interface{ Scan(...any) error }, extra ...any) (Campaign, bool, error) {
	var c Campaign
	var spec, state string
	var created, updated, rateMilli int64
	var fixed int
	var started, finished sql.NullInt64
	st := &c.Stats
	dest := append([]any{&c.ID, &spec, &state, &c.PauseReason, &c.CreatedBy, &created, &updated, &started, &finished,
		&st.Targeted, &st.Sent, &st.Delivered, &st.Read, &st.Clicked, &st.Failed, &st.Skipped, &rateMilli, &fixed}, extra...)
	if err := row.Scan(dest...); err != nil {
		return Campaign{}, false, err
	}
	if err := json.Unmarshal([]byte(spec), &c.Spec); err != nil {
		return Campaign{}, false, fmt.Errorf("campaign %s: stored spec: %w", c.ID, err)
	}
	c.State, c.CreatedAt, c.UpdatedAt = State(state), fromMS(created), fromMS(updated)
	c.StartedAt, c.FinishedAt = fromNullMS(started), fromNullMS(finished)
	if fixed == 1 {
		st.Pending = st.Targeted - st.Sent - st.Failed - st.Skipped
	}
	if c.State == StateRunning {
		st.Rate = float64(rateMilli) / 1000
	}
	return c, fixed == 1, nil
}

// checkSpec validates sp and that every merchant it lists exists.
func (s *Store) checkSpec(ctx context.Context, sp *Spec) error {
	if err := sp.Validate(s.now()); err != nil {
		return err
	}
	unknown, err := s.UnknownMerchants(ctx, sp.Audience.MerchantIDs)
	if err != nil {
		return err
	}
	if len(unknown) > 0 {
		for i, id := range sp.Audience.MerchantIDs {
			if id == unknown[0] {
				return fieldErr(fmt.Sprintf("audience.merchant_ids[%d]", i), "no merchant %s", id)
			}
		}
	}
	return nil
}

// CreateCampaign validates sp and stores it as a draft.
func (s *Store) CreateCampaign(ctx context.Context, a Actor, sp Spec) (Campaign, error) {
	if err := s.checkSpec(ctx, &sp); err != nil {
		return Campaign{}, err
	}
	spec, err := json.Marshal(sp)
	if err != nil {
		return Campaign{}, err
	}
	now := fromMS(ms(s.now()))
	c := Campaign{ID: newID("cmp_"), Spec: sp, State: StateDraft, CreatedBy: a.KeyID, CreatedAt: now, UpdatedAt: now}
	err = s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO campaigns (id, name, spec, state, send_at, created_by, created_at, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)`), c.ID, sp.Name, string(spec), string(c.State), nullTime(sp.SendAt), c.CreatedBy, ms(now), ms(now)); err != nil {
			return s.wrap("create campaign", err)
		}
		return s.audit(ctx, tx, a, "campaign.create", "campaign:"+c.ID, nil, sp)
	})
	if err != nil {
		return Campaign{}, err
	}
	return c, nil
}

// UpdateCampaign replaces the spec of a draft.
func (s *Store) UpdateCampaign(ctx context.Context, a Actor, id string, sp Spec) (Campaign, error) {
	if err := s.checkSpec(ctx, &sp); err != nil {
		return Campaign{}, err
	}
	spec, err := json.Marshal(sp)
	if err != nil {
		return Campaign{}, err
	}
	var c Campaign
	err = s.tx(ctx, func(tx *sql.Tx) error {
		before, err := s.lockCampaign(ctx, tx, id)
		if err != nil {
			return err
		}
		if before.State != StateDraft {
			return &StateError{Op: "edit", State: before.State}
		}
		now := ms(s.now())
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE campaigns SET name = ?, spec = ?, send_at = ?, updated_at = ? WHERE id = ?`),
			sp.Name, string(spec), nullTime(sp.SendAt), now, id); err != nil {
			return s.wrap("update campaign", err)
		}
		c = before
		c.Spec, c.UpdatedAt = sp, fromMS(now)
		return s.audit(ctx, tx, a, "campaign.update", "campaign:"+id, before.Spec, sp)
	})
	return c, err
}

// DeleteCampaign deletes a draft; a campaign that ever started is kept (cancel it).
func (s *Store) DeleteCampaign(ctx context.Context, a Actor, id string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		before, err := s.lockCampaign(ctx, tx, id)
		if err != nil {
			return err
		}
		if before.State != StateDraft {
			return &StateError{Op: "delete", State: before.State}
		}
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM campaigns WHERE id = ?`), id); err != nil {
			return s.wrap("delete campaign", err)
		}
		return s.audit(ctx, tx, a, "campaign.delete", "campaign:"+id, before.Spec, nil)
	})
}

// GetCampaign returns campaign id with its state and stats.
func (s *Store) GetCampaign(ctx context.Context, id string) (Campaign, error) {
	return s.getCampaign(ctx, s.db, id, "")
}

func (s *Store) lockCampaign(ctx context.Context, tx *sql.Tx, id string) (Campaign, error) {
	suffix := ""
	if s.pg {
		suffix = " FOR UPDATE"
	}
	return s.getCampaign(ctx, tx, id, suffix)
}

func (s *Store) getCampaign(ctx context.Context, q querier, id, suffix string) (Campaign, error) {
	c, err := scanCampaign(q.QueryRowContext(ctx, s.q(`SELECT `+campaignColumns+` FROM campaigns WHERE id = ?`+suffix), id))
	if errors.Is(err, sql.ErrNoRows) {
		return Campaign{}, ErrNotFound
	}
	if err != nil {
		return Campaign{}, s.wrap("campaign", err)
	}
	return c, nil
}

// ListCampaigns returns campaigns (of one state, when given) newest first; after pages by id.
func (s *Store) ListCampaigns(ctx context.Context, state State, after string, limit int) ([]Campaign, error) {
	where := []string{"1 = 1"}
	var args []any
	if state != "" {
		where, args = append(where, "state = ?"), append(args, string(state))
	}
	if after != "" {
		where, args = append(where, "id < ?"), append(args, after)
	}
	args = append(args, clampLimit(limit))
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT `+campaignColumns+` FROM campaigns WHERE `+strings.Join(where, " AND ")+
		` ORDER BY created_at DESC, id DESC LIMIT ?`), args...)
	if err != nil {
		return nil, s.wrap("list campaigns", err)
	}
	defer rows.Close()
	list := []Campaign{}
	for rows.Next() {
		c, err := scanCampaign(rows)
		if err != nil {
			return nil, s.wrap("list campaigns", err)
		}
		list = append(list, c)
	}
	return list, s.wrap("list campaigns", rows.Err())
}

// transition moves campaign id from one of from to the state next returns, writing the
// audit entry, all in one transaction. next may refuse with an error.
func (s *Store) transition(ctx context.Context, a Actor, id, op string, from []State,
	next func(c *Campaign, now time.Time) (State, error)) (Campaign, error) {
	var c Campaign
	err := s.tx(ctx, func(tx *sql.Tx) error {
		before, err := s.lockCampaign(ctx, tx, id)
		if err != nil {
			return err
		}
		allowed := false
		for _, f := range from {
			allowed = allowed || before.State == f
		}
		if !allowed {
			return &StateError{Op: op, State: before.State}
		}
		now := fromMS(ms(s.now()))
		c = before
		to, err := next(&c, now)
		if err != nil {
			return err
		}
		c.State, c.UpdatedAt = to, now
		if to == StateRunning && c.StartedAt == nil {
			c.StartedAt = &now
		}
		if to == StateCancelled || to == StateFinished {
			c.FinishedAt = &now
		}
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE campaigns SET state = ?, pause_reason = ?, updated_at = ?, started_at = ?, finished_at = ?
WHERE id = ? AND state = ?`), string(to), c.PauseReason, ms(now), nullTime(c.StartedAt), nullTime(c.FinishedAt), id, string(before.State)); err != nil {
			return s.wrap(op+" campaign", err)
		}
		type state struct {
			State       State  `json:"state"`
			PauseReason string `json:"pause_reason,omitempty"`
		}
		return s.audit(ctx, tx, a, "campaign."+op, "campaign:"+id, state{before.State, before.PauseReason}, state{to, c.PauseReason})
	})
	if err != nil {
		return Campaign{}, err
	}
	if c.State != StateRunning {
		c.Stats.Rate = 0
	}
	return c, nil
}

// The states each state change starts from: the store refuses it from any other, and the
// console shows its button only in these.
var (
	StartFrom  = []State{StateDraft}
	PauseFrom  = []State{StateRunning, StateScheduled}
	ResumeFrom = []State{StatePaused}
	CancelFrom = []State{StateDraft, StateScheduled, StateRunning, StatePaused}
)

// Start launches a draft: scheduled when its send time is ahead, else running at once.
// Its audience is fixed when it begins to run. An audience that reaches nobody, or a send
// time that has passed since the draft was saved, is refused.
func (s *Store) Start(ctx context.Context, a Actor, id string) (Campaign, error) {
	c, err := s.GetCampaign(ctx, id)
	if err != nil {
		return Campaign{}, err
	}
	if c.State == StateDraft {
		sp := c.Spec
		if err := s.checkSpec(ctx, &sp); err != nil {
			return Campaign{}, err
		}
		n, err := s.CountAudience(ctx, sp.Audience)
		if err != nil {
			return Campaign{}, err
		}
		if n == 0 {
			return Campaign{}, fieldErr("audience", "reaches no merchant")
		}
	}
	return s.transition(ctx, a, id, "start", StartFrom, func(c *Campaign, now time.Time) (State, error) {
		if c.SendAt != nil && c.SendAt.After(now) {
			return StateScheduled, nil
		}
		return StateRunning, nil
	})
}

// Pause stops a running (or scheduled) campaign after the batch in flight.
func (s *Store) Pause(ctx context.Context, a Actor, id, reason string) (Campaign, error) {
	if len(reason) > MaxNameBytes || !printable(reason) {
		return Campaign{}, fieldErr("reason", "at most %d bytes of printable text", MaxNameBytes)
	}
	return s.transition(ctx, a, id, "pause", PauseFrom, func(c *Campaign, _ time.Time) (State, error) {
		c.PauseReason = reason
		if c.PauseReason == "" {
			c.PauseReason = "paused by " + a.Name
		}
		return StatePaused, nil
	})
}

// Resume runs a paused campaign again from where it stopped (a campaign paused while
// scheduled goes back to waiting for its time).
func (s *Store) Resume(ctx context.Context, a Actor, id string) (Campaign, error) {
	return s.transition(ctx, a, id, "resume", ResumeFrom, func(c *Campaign, now time.Time) (State, error) {
		c.PauseReason = ""
		if c.StartedAt == nil && c.SendAt != nil && c.SendAt.After(now) {
			return StateScheduled, nil
		}
		return StateRunning, nil
	})
}

// Cancel ends a campaign for good; recipients not reached yet stay pending.
func (s *Store) Cancel(ctx context.Context, a Actor, id string) (Campaign, error) {
	return s.transition(ctx, a, id, "cancel", CancelFrom,
		func(*Campaign, time.Time) (State, error) { return StateCancelled, nil })
}

// Progress returns the samples of campaign id's counters taken since since, oldest first
// (at most MaxPage: the oldest are thinned out).
func (s *Store) Progress(ctx context.Context, id string, since time.Time) ([]Progress, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT at, sent, delivered, read_n, clicked, failed FROM campaign_progress
WHERE campaign_id = ? AND at >= ? ORDER BY at`), id, ms(since))
	if err != nil {
		return nil, s.wrap("progress", err)
	}
	defer rows.Close()
	points := []Progress{}
	for rows.Next() {
		var p Progress
		var at int64
		if err := rows.Scan(&at, &p.Sent, &p.Delivered, &p.Read, &p.Clicked, &p.Failed); err != nil {
			return nil, s.wrap("progress", err)
		}
		p.At = fromMS(at)
		points = append(points, p)
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap("progress", err)
	}
	if n := len(points); n > MaxPage {
		step := (n + MaxPage - 1) / MaxPage
		thin := make([]Progress, 0, MaxPage+1)
		for i := 0; i < n; i += step {
			thin = append(thin, points[i])
		}
		if thin[len(thin)-1] != points[n-1] {
			thin = append(thin, points[n-1])
		}
		points = thin
	}
	return points, nil
}

// Recipients pages through campaign id's fixed audience in send order.
func (s *Store) Recipients(ctx context.Context, id string, status *RecipientStatus, afterPos int64, limit int) ([]Recipient, error) {
	where := "campaign_id = ? AND pos > ?"
	args := []any{id, afterPos}
	if status != nil {
		where += " AND status = ?"
		args = append(args, int(*status))
	}
	args = append(args, clampLimit(limit))
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT pos, merchant_id, status, msg_id, inbox_seq, conv_seq, error,
sent_at, delivered_at, read_at, clicked_at FROM campaign_recipients WHERE `+where+` ORDER BY pos LIMIT ?`), args...)
	if err != nil {
		return nil, s.wrap("recipients", err)
	}
	defer rows.Close()
	list := []Recipient{}
	for rows.Next() {
		var r Recipient
		var status int
		var sent, delivered, read, clicked sql.NullInt64
		if err := rows.Scan(&r.Pos, &r.MerchantID, &status, &r.MsgID, &r.Seq, &r.ConvSeq, &r.Error,
			&sent, &delivered, &read, &clicked); err != nil {
			return nil, s.wrap("recipients", err)
		}
		r.Status = RecipientStatus(status)
		r.SentAt, r.DeliveredAt, r.ReadAt, r.ClickedAt = fromNullMS(sent), fromNullMS(delivered), fromNullMS(read), fromNullMS(clicked)
		list = append(list, r)
	}
	return list, s.wrap("recipients", rows.Err())
}

// RecordClick counts merchant's click on campaign's button, once per recipient: counted is
// false for a merchant who was not sent the campaign or clicked before.
func (s *Store) RecordClick(ctx context.Context, campaignID, merchantID string) (counted bool, err error) {
	err = s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`UPDATE campaign_recipients SET clicked_at = ?
WHERE campaign_id = ? AND merchant_id = ? AND status = 1 AND clicked_at IS NULL`), ms(s.now()), campaignID, merchantID)
		if err != nil {
			return s.wrap("record click", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		counted = true
		_, err = tx.ExecContext(ctx, s.q(`UPDATE campaigns SET n_clicked = n_clicked + 1 WHERE id = ?`), campaignID)
		return s.wrap("record click", err)
	})
	return counted, err
}

func nullTime(t *time.Time) sql.NullInt64 {
	if t == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: ms(*t), Valid: true}
}
