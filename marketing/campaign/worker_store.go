package campaign

import (
	"context"
	"database/sql"
	"encoding/json"
	"math"
	"time"
)

// What the worker asks of the store. Every write that moves a campaign forward is
// conditioned on the worker still holding the campaign's lease, in the same transaction:
// a worker that lost its lease (a pause for GC, a network split) cannot write over the one
// that took over.

// promoteDue moves scheduled campaigns whose send time has come to running.
func (s *Store) promoteDue(ctx context.Context) error {
	now := ms(s.now())
	_, err := s.db.ExecContext(ctx, s.q(`UPDATE campaigns SET state = 'running', started_at = ?, updated_at = ?
WHERE state = 'scheduled' AND send_at <= ?`), now, now, now)
	return s.wrap("promote scheduled", err)
}

// claim takes the lease of every running campaign that no live worker holds (or that
// owner holds already), up to max, and returns their ids.
func (s *Store) claim(ctx context.Context, owner string, lease time.Duration, max int) ([]string, error) {
	now := ms(s.now())
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT id FROM campaigns WHERE state = 'running' AND (lease_owner = ? OR lease_until < ?)
ORDER BY started_at LIMIT ?`), owner, now, max)
	if err != nil {
		return nil, s.wrap("claim", err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, s.wrap("claim", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, s.wrap("claim", err)
	}
	var claimed []string
	for _, id := range ids {
		res, err := s.db.ExecContext(ctx, s.q(`UPDATE campaigns SET lease_owner = ?, lease_until = ?
WHERE id = ? AND state = 'running' AND (lease_owner = ? OR lease_until < ?)`), owner, now+lease.Milliseconds(), id, owner, now)
		if err != nil {
			return claimed, s.wrap("claim", err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			claimed = append(claimed, id)
		}
	}
	return claimed, nil
}

// release gives up owner's lease on id, so another worker may take it at once.
func (s *Store) release(ctx context.Context, id, owner string) error {
	_, err := s.db.ExecContext(ctx, s.q(`UPDATE campaigns SET lease_owner = '', lease_until = 0 WHERE id = ? AND lease_owner = ?`), id, owner)
	return s.wrap("release", err)
}

// runState is what the worker needs to know of its campaign before each batch.
type runState struct {
	campaign Campaign
	fixed    bool
	cursor   int64
}

// runStateOf reads campaign id, checking owner still holds its lease (and extending it).
func (s *Store) runStateOf(ctx context.Context, id, owner string, lease time.Duration) (runState, error) {
	now := ms(s.now())
	res, err := s.db.ExecContext(ctx, s.q(`UPDATE campaigns SET lease_until = ? WHERE id = ? AND lease_owner = ?`), now+lease.Milliseconds(), id, owner)
	if err != nil {
		return runState{}, s.wrap("lease", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return runState{}, ErrLeaseLost
	}
	var rs runState
	row := s.db.QueryRowContext(ctx, s.q(`SELECT `+campaignColumns+`, cursor_pos FROM campaigns WHERE id = ?`), id)
	rs.campaign, rs.fixed, err = scanCampaignFixed(row, &rs.cursor)
	if err != nil {
		return runState{}, s.wrap("campaign", err)
	}
	return rs, nil
}

// fixAudience writes the recipients of campaign id once, in id order, and returns how
// many. A campaign fixed before is left as it is.
func (s *Store) fixAudience(ctx context.Context, id, owner string, aud Audience) (int64, error) {
	var n int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var fixed int
		var targeted int64
		var holder string
		if err := tx.QueryRowContext(ctx, s.q(`SELECT fixed, n_targeted, lease_owner FROM campaigns WHERE id = ?`), id).Scan(&fixed, &targeted, &holder); err != nil {
			return s.wrap("fix audience", err)
		}
		if holder != owner {
			return ErrLeaseLost
		}
		if fixed == 1 {
			n = targeted
			return nil
		}
		query, args := s.audienceSQL(aud)
		res, err := tx.ExecContext(ctx, s.q(`INSERT INTO campaign_recipients (campaign_id, pos, merchant_id)
SELECT ?, ROW_NUMBER() OVER (ORDER BY a.id), a.id FROM (`+query+`) a`), append([]any{id}, args...)...)
		if err != nil {
			return s.wrap("fix audience", err)
		}
		n, _ = res.RowsAffected()
		_, err = tx.ExecContext(ctx, s.q(`UPDATE campaigns SET fixed = 1, n_targeted = ? WHERE id = ?`), n, id)
		return s.wrap("fix audience", err)
	})
	if err == nil && s.pg && n > 0 {
		// A bulk load leaves the planner's statistics behind: believing the campaign has a
		// handful of recipients, it would join each batch's outcomes against all of them
		// (seconds per batch at 100k) instead of looking each up by primary key. Autovacuum
		// analyzes in its own time, perhaps not before the campaign is over.
		if _, aerr := s.db.ExecContext(ctx, `ANALYZE campaign_recipients`); aerr != nil {
			s.log.WarnContext(ctx, "campaign recipients not analyzed; batches may be slow", "campaign", id, "err", aerr)
		}
	}
	return n, err
}

// pendingRow is a recipient to send to, with the merchant as it is now (Deleted when the
// merchant was deleted since the audience was fixed).
type pendingRow struct {
	pos      int64
	merchant Merchant
	deleted  bool
}

// nextPending returns up to n pending recipients after pos, in order.
func (s *Store) nextPending(ctx context.Context, id string, after int64, n int) ([]pendingRow, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT r.pos, r.merchant_id, COALESCE(m.name, ''), COALESCE(m.city, ''),
COALESCE(m.category, ''), COALESCE(m.tags, ','), m.id IS NULL OR m.deleted_at IS NOT NULL
FROM campaign_recipients r LEFT JOIN merchants m ON m.id = r.merchant_id
WHERE r.campaign_id = ? AND r.pos > ? AND r.status = 0 ORDER BY r.pos LIMIT ?`), id, after, n)
	if err != nil {
		return nil, s.wrap("next recipients", err)
	}
	defer rows.Close()
	var out []pendingRow
	for rows.Next() {
		var p pendingRow
		var tags string
		if err := rows.Scan(&p.pos, &p.merchant.ID, &p.merchant.Name, &p.merchant.City, &p.merchant.Category, &tags, &p.deleted); err != nil {
			return nil, s.wrap("next recipients", err)
		}
		p.merchant.Tags = splitTags(tags)
		out = append(out, p)
	}
	return out, s.wrap("next recipients", rows.Err())
}

// outcome is what became of one recipient in a batch.
type outcome struct {
	pos     int64
	status  RecipientStatus
	msgID   string
	seq     int64
	convSeq int64
	err     string
}

// writeOutcomes sets the outcomes of still-pending recipients and returns how many rows
// it changed. On PostgreSQL one statement joins them, sent as one JSON parameter. SQLite's
// planner would put the recipients table outside that join (a scan of the campaign per
// batch), so there each row is an update by primary key through one prepared statement.
func (s *Store) writeOutcomes(ctx context.Context, tx *sql.Tx, id string, now int64, outs []outcome) (int64, error) {
	if len(outs) == 0 {
		return 0, nil
	}
	if s.pg {
		rows := make([][]any, len(outs))
		for i, o := range outs {
			rows[i] = []any{o.pos, int(o.status), o.msgID, o.seq, o.convSeq, o.err}
		}
		vals, err := json.Marshal(rows)
		if err != nil {
			return 0, err
		}
		res, err := tx.ExecContext(ctx, s.q(`UPDATE campaign_recipients SET status = `+s.elem(1, "smallint")+`,
msg_id = `+s.elem(2, "text")+`, inbox_seq = `+s.elem(3, "bigint")+`, conv_seq = `+s.elem(4, "bigint")+`,
error = `+s.elem(5, "text")+`, sent_at = CASE WHEN `+s.elem(1, "smallint")+` = 1 THEN CAST(? AS bigint) ELSE NULL END
FROM `+s.jsonRows()+` WHERE campaign_recipients.campaign_id = ? AND campaign_recipients.pos = `+s.elem(0, "bigint")+`
AND campaign_recipients.status = 0`), now, string(vals), id)
		if err != nil {
			return 0, err
		}
		return res.RowsAffected()
	}
	st, err := tx.PrepareContext(ctx, `UPDATE campaign_recipients SET status = ?, msg_id = ?, inbox_seq = ?, conv_seq = ?,
error = ?, sent_at = ? WHERE campaign_id = ? AND pos = ? AND status = 0`)
	if err != nil {
		return 0, err
	}
	defer st.Close()
	var total int64
	for _, o := range outs {
		var sentAt sql.NullInt64
		if o.status == RecipientSent {
			sentAt = sql.NullInt64{Int64: now, Valid: true}
		}
		res, err := st.ExecContext(ctx, int(o.status), o.msgID, o.seq, o.convSeq, o.err, sentAt, id, o.pos)
		if err != nil {
			return 0, err
		}
		n, _ := res.RowsAffected()
		total += n
	}
	return total, nil
}

// recordBatch writes a batch's outcomes (only over recipients still pending: a batch
// written before a crash and sent again changes nothing), moves the cursor and adds to
// the counters, all in one transaction conditioned on owner's lease.
func (s *Store) recordBatch(ctx context.Context, id, owner string, outs []outcome, cursor int64, rateMilli int64) error {
	now := ms(s.now())
	var sent, failed, skipped int64
	for _, o := range outs {
		switch o.status {
		case RecipientSent:
			sent++
		case RecipientFailed:
			failed++
		case RecipientSkipped:
			skipped++
		}
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		n, err := s.writeOutcomes(ctx, tx, id, now, outs)
		if err != nil {
			return s.wrap("record batch", err)
		}
		if n != int64(len(outs)) {
			// Someone else wrote these rows: only a worker without the lease could.
			return ErrLeaseLost
		}
		res, err := tx.ExecContext(ctx, s.q(`UPDATE campaigns SET cursor_pos = ?, n_sent = n_sent + ?, n_failed = n_failed + ?,
n_skipped = n_skipped + ?, rate_milli = ?, updated_at = ? WHERE id = ? AND lease_owner = ?`),
			cursor, sent, failed, skipped, rateMilli, now, id, owner)
		if err != nil {
			return s.wrap("record batch", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrLeaseLost
		}
		return nil
	})
}

// finish marks a running campaign owner holds as finished and releases it.
func (s *Store) finish(ctx context.Context, a Actor, id, owner string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		now := ms(s.now())
		res, err := tx.ExecContext(ctx, s.q(`UPDATE campaigns SET state = 'finished', finished_at = ?, updated_at = ?, rate_milli = 0,
lease_owner = '', lease_until = 0 WHERE id = ? AND state = 'running' AND lease_owner = ?`), now, now, id, owner)
		if err != nil {
			return s.wrap("finish", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrLeaseLost
		}
		type state struct {
			State State `json:"state"`
		}
		return s.audit(ctx, tx, a, "campaign.finish", "campaign:"+id, state{StateRunning}, state{StateFinished})
	})
}

// autoPause pauses a running campaign owner holds, with the reason, and releases it.
func (s *Store) autoPause(ctx context.Context, a Actor, id, owner, reason string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		now := ms(s.now())
		res, err := tx.ExecContext(ctx, s.q(`UPDATE campaigns SET state = 'paused', pause_reason = ?, updated_at = ?, rate_milli = 0,
lease_owner = '', lease_until = 0 WHERE id = ? AND state = 'running' AND lease_owner = ?`), reason, now, id, owner)
		if err != nil {
			return s.wrap("auto-pause", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrLeaseLost
		}
		type state struct {
			State       State  `json:"state"`
			PauseReason string `json:"pause_reason,omitempty"`
		}
		return s.audit(ctx, tx, a, "campaign.pause", "campaign:"+id, state{State: StateRunning}, state{StatePaused, reason})
	})
}

// sampleProgress records the counters of the campaigns being sent or recently sent.
func (s *Store) sampleProgress(ctx context.Context, id string) error {
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO campaign_progress (campaign_id, at, sent, delivered, read_n, clicked, failed)
SELECT id, ?, n_sent, n_delivered, n_read, n_clicked, n_failed FROM campaigns WHERE id = ?
ON CONFLICT (campaign_id, at) DO NOTHING`), ms(s.now()), id)
	return s.wrap("sample progress", err)
}

// receiptCampaigns lists campaigns whose sent messages may still be delivered or read:
// sent to someone not yet read, and not finished longer ago than window.
func (s *Store) receiptCampaigns(ctx context.Context, window time.Duration) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT id FROM campaigns WHERE fixed = 1 AND n_read < n_sent
AND (finished_at IS NULL OR finished_at > ?) ORDER BY id`), ms(s.now().Add(-window)))
	if err != nil {
		return nil, s.wrap("receipt campaigns", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, s.wrap("receipt campaigns", err)
		}
		ids = append(ids, id)
	}
	return ids, s.wrap("receipt campaigns", rows.Err())
}

// unread is a sent recipient whose read receipt has not been seen.
type unread struct {
	pos       int64
	merchant  string
	seq       int64
	convSeq   int64
	delivered bool
}

func (s *Store) unreadAfter(ctx context.Context, id string, after, upTo int64, n int) ([]unread, error) {
	if upTo <= 0 {
		upTo = math.MaxInt64
	}
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT pos, merchant_id, inbox_seq, conv_seq, delivered_at IS NOT NULL
FROM campaign_recipients WHERE campaign_id = ? AND status = 1 AND read_at IS NULL AND pos > ? AND pos <= ?
ORDER BY pos LIMIT ?`), id, after, upTo, n)
	if err != nil {
		return nil, s.wrap("unread", err)
	}
	defer rows.Close()
	var out []unread
	for rows.Next() {
		var u unread
		if err := rows.Scan(&u.pos, &u.merchant, &u.seq, &u.convSeq, &u.delivered); err != nil {
			return nil, s.wrap("unread", err)
		}
		out = append(out, u)
	}
	return out, s.wrap("unread", rows.Err())
}

// markReceipts records deliveries and reads seen for recipients of campaign id and adds
// the newly seen ones to its counters. A read implies a delivery. Conditional updates
// make it safe for two workers to record the same receipts.
func (s *Store) markReceipts(ctx context.Context, id string, delivered, read []int64) error {
	if len(delivered) == 0 && len(read) == 0 {
		return nil
	}
	now := ms(s.now())
	return s.tx(ctx, func(tx *sql.Tx) error {
		var nd, nr int64
		for _, set := range []struct {
			pos  []int64
			col  string
			into *int64
		}{{append(delivered, read...), "delivered_at", &nd}, {read, "read_at", &nr}} {
			if len(set.pos) == 0 {
				continue
			}
			list, err := json.Marshal(set.pos)
			if err != nil {
				return err
			}
			res, err := tx.ExecContext(ctx, s.q(`UPDATE campaign_recipients SET `+set.col+` = ? WHERE campaign_id = ?
AND pos IN (SELECT `+s.elem(-1, "bigint")+` FROM `+s.jsonRows()+`) AND `+set.col+` IS NULL`), now, id, string(list))
			if err != nil {
				return s.wrap("receipts", err)
			}
			n, _ := res.RowsAffected()
			*set.into += n
		}
		_, err := tx.ExecContext(ctx, s.q(`UPDATE campaigns SET n_delivered = n_delivered + ?, n_read = n_read + ? WHERE id = ?`), nd, nr, id)
		return s.wrap("receipts", err)
	})
}
