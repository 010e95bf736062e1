package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// pgWriter writes a batch in one transaction. The first attempt is one round trip: the
// statements below go out together in one pipeline, which PostgreSQL runs as one implicit
// transaction committed at its end, and the batch's messages are taken to be new:
//
//  1. raise the conversation counters, then the inbox counters, each with one upsert that
//     locks its rows in id order;
//  2. insert the messages and the inbox rows, each numbered from the counter its batch
//     raised (the counter's new value minus the entries of the batch after it);
//  3. upsert the marks, each checked against its bound in the statement that writes it.
//
// A message stored before under the same (sender, client id) fails the insert on the
// unique index and rolls all of it back; the batch is then written in an explicit
// transaction that first reads back what is stored, as every retry after a lost race
// (deadlock, serialization failure, a concurrent insert of the same key) is.
type pgWriter struct {
	pool *pgxpool.Pool
}

// pgMaxAttempts bounds the checked transactions tried after the pipelined one failed
// on a conflict.
const pgMaxAttempts = 3

func (w pgWriter) writeBatch(ctx context.Context, reqs []*appendReq, marks []*markReq) ([]Appended, []markResult, error) {
	out, mres, err := w.writePipelined(ctx, reqs, marks)
	for range pgMaxAttempts {
		if err == nil || !pgRetryable(err) {
			return out, mres, err
		}
		out, mres, err = w.writeChecked(ctx, reqs, marks)
	}
	return out, mres, err
}

func pgRetryable(err error) bool {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return false
	}
	switch pe.Code {
	case "40001", "40P01", "23505": // serialization_failure, deadlock_detected, unique_violation
		return true
	}
	return false
}

// writePipelined writes reqs as new messages, and marks, in one round trip.
func (w pgWriter) writePipelined(ctx context.Context, reqs []*appendReq, marks []*markReq) ([]Appended, []markResult, error) {
	q := pgQueue(reqs, marks)
	br := w.pool.SendBatch(ctx, q.batch)
	defer br.Close()
	made, mres, err := q.read(br)
	if err != nil {
		return nil, nil, err
	}
	// Close reads up to the end of the pipeline: the commit. Nothing is answered before.
	if err := br.Close(); err != nil {
		return nil, nil, fmt.Errorf("commit: %w", err)
	}
	return made, mres, nil
}

// writeChecked writes in an explicit transaction that first reads back the messages of
// reqs stored before, and answers those as duplicates.
func (w pgWriter) writeChecked(ctx context.Context, reqs []*appendReq, marks []*markReq) ([]Appended, []markResult, error) {
	tx, err := w.pool.Begin(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("begin: %w", err)
	}
	// After Commit this is a no-op.
	defer func() { _ = tx.Rollback(ctx) }()

	stored, err := pgFindStored(ctx, tx, reqs)
	if err != nil {
		return nil, nil, err
	}
	q := pgQueue(freshRequests(reqs, stored), marks)
	var made []Appended
	var mres []markResult
	if q.batch.Len() > 0 {
		br := tx.SendBatch(ctx, q.batch)
		made, mres, err = q.read(br)
		if cerr := br.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, nil, err
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, nil, fmt.Errorf("commit: %w", err)
	}
	return mergeResults(reqs, stored, made), mres, nil
}

// pgBatch is the statements of one write: the counters raised and the inserts of reqs
// (taken to be new), then the marks.
type pgBatch struct {
	batch *pgx.Batch
	reqs  []*appendReq
	plan  counterPlan
	marks []*markReq
	kinds []markKind // the marks' statements queued, in order
}

func pgQueue(reqs []*appendReq, marks []*markReq) pgBatch {
	q := pgBatch{batch: &pgx.Batch{}, reqs: reqs, marks: marks}
	if len(reqs) > 0 {
		q.plan = planCounters(reqs)
		q.batch.Queue(pgRaiseConvSQL, q.plan.convIDs, q.plan.convN)
		q.batch.Queue(pgRaiseUserSQL, q.plan.userIDs, q.plan.userN)
		pgQueueInserts(q.batch, reqs, q.plan)
	}
	q.kinds = pgQueueMarks(q.batch, marks)
	return q
}

// read reads the results of q's statements, in the order they were queued.
func (q pgBatch) read(br pgx.BatchResults) ([]Appended, []markResult, error) {
	var made []Appended
	if len(q.reqs) > 0 {
		convLast, userLast, err := pgReadCounters(br)
		if err != nil {
			return nil, nil, err
		}
		for _, what := range []string{"insert messages", "insert inbox"} {
			if _, err := br.Exec(); err != nil {
				return nil, nil, fmt.Errorf("%s: %w", what, err)
			}
		}
		made = assignSeqs(q.reqs, q.plan, convLast, userLast)
	}
	mres, err := pgReadMarks(br, q.marks, q.kinds)
	if err != nil {
		return nil, nil, err
	}
	return made, mres, nil
}

const pgFindStoredSQL = `
SELECT m.id::text, m.conv_id, m.conv_seq, m.sender, m.recipient, m.client_msg_id,
       m.kind, m.content_type, m.body, m.sent_at, i.user_id, i.seq
FROM messages m
JOIN unnest($1::text[], $2::text[]) AS k(sender, client_msg_id)
  ON m.sender = k.sender AND m.client_msg_id = k.client_msg_id
JOIN inbox i ON i.msg_id = m.id
WHERE m.client_msg_id <> ''
ORDER BY m.id, i.user_id`

// pgFindStored returns, by dedup key, the messages of reqs stored before.
// The client_msg_id condition of the query is what lets the planner use the
// partial unique index instead of scanning messages.
func pgFindStored(ctx context.Context, tx pgx.Tx, reqs []*appendReq) (map[string]Appended, error) {
	var senders, ids []string
	for _, r := range reqs {
		if _, ok := r.dedupKey(); ok {
			senders = append(senders, r.msg.From)
			ids = append(ids, r.msg.ClientMsgID)
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := tx.Query(ctx, pgFindStoredSQL, senders, ids)
	if err != nil {
		return nil, fmt.Errorf("find stored: %w", err)
	}
	defer rows.Close()
	stored := make(map[string]Appended)
	for rows.Next() {
		var m Message
		var e InboxEntry
		if err := rows.Scan(&m.ID, &m.ConvID, &m.ConvSeq, &m.From, &m.To, &m.ClientMsgID,
			&m.Kind, &m.ContentType, &m.Body, &m.SentAt, &e.UserID, &e.Seq); err != nil {
			return nil, fmt.Errorf("find stored: %w", err)
		}
		m.SentAt = m.SentAt.UTC()
		key := m.From + "\x00" + m.ClientMsgID
		a, ok := stored[key]
		if !ok {
			a.Message = m
		}
		a.Inbox = append(a.Inbox, e)
		stored[key] = a
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find stored: %w", err)
	}
	return stored, nil
}

// The ORDER BY makes every writer lock counter rows in the same order, so two
// batches never wait on each other in a cycle. COLLATE "C" keeps that order
// independent of the database's locale.
const (
	pgRaiseConvSQL = `
INSERT INTO conversations AS c (id, last_seq)
SELECT id, n FROM unnest($1::text[], $2::bigint[]) AS t(id, n) ORDER BY id COLLATE "C"
ON CONFLICT (id) DO UPDATE SET last_seq = c.last_seq + EXCLUDED.last_seq
RETURNING id, last_seq`
	pgRaiseUserSQL = `
INSERT INTO user_seqs AS u (user_id, last_seq)
SELECT id, n FROM unnest($1::text[], $2::bigint[]) AS t(id, n) ORDER BY id COLLATE "C"
ON CONFLICT (user_id) DO UPDATE SET last_seq = u.last_seq + EXCLUDED.last_seq
RETURNING user_id, last_seq`
)

// pgReadCounters reads the results of the two counter upserts queued first: each
// counter's new value. Conversations are locked before inboxes, always: that order is
// what keeps a conversation's messages in ConvSeq order inside every inbox.
func pgReadCounters(br pgx.BatchResults) (conv, user map[string]int64, err error) {
	if conv, err = pgCollectCounters(br); err != nil {
		return nil, nil, fmt.Errorf("raise conversation seqs: %w", err)
	}
	if user, err = pgCollectCounters(br); err != nil {
		return nil, nil, fmt.Errorf("raise inbox seqs: %w", err)
	}
	return conv, user, nil
}

func pgCollectCounters(br pgx.BatchResults) (map[string]int64, error) {
	rows, err := br.Query()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	last := make(map[string]int64)
	for rows.Next() {
		var id string
		var v int64
		if err := rows.Scan(&id, &v); err != nil {
			return nil, err
		}
		last[id] = v
	}
	return last, rows.Err()
}

// The inserts number each row from its counter as raised by the batch: the new value
// minus back, the entries of the same counter later in the batch. A counter the batch did
// not raise would give NULL, which the NOT NULL column refuses: never a silent gap.
const (
	pgInsertMessagesSQL = `
INSERT INTO messages (id, conv_id, conv_seq, sender, recipient, client_msg_id, kind, content_type, body, sent_at)
SELECT id::uuid, conv_id, (SELECT c.last_seq FROM conversations c WHERE c.id = t.conv_id) - back,
       sender, recipient, client_msg_id, kind, content_type, body, sent_at
FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[],
            $7::integer[], $8::text[], $9::bytea[], $10::timestamptz[])
  AS t(id, conv_id, back, sender, recipient, client_msg_id, kind, content_type, body, sent_at)`
	pgInsertInboxSQL = `
INSERT INTO inbox (user_id, seq, msg_id)
SELECT user_id, (SELECT u.last_seq FROM user_seqs u WHERE u.user_id = t.user_id) - back, msg_id::uuid
FROM unnest($1::text[], $2::bigint[], $3::text[]) AS t(user_id, back, msg_id)`
)

// pgQueueInserts queues the inserts of reqs, numbered as assignSeqs numbers them, with
// one statement per table: the cost of a batch hardly grows with its size.
func pgQueueInserts(b *pgx.Batch, reqs []*appendReq, plan counterPlan) {
	n := len(reqs)
	convLeft := make(map[string]int64, len(plan.convIDs))
	for i, id := range plan.convIDs {
		convLeft[id] = plan.convN[i]
	}
	userLeft := make(map[string]int64, len(plan.userIDs))
	for i, id := range plan.userIDs {
		userLeft[id] = plan.userN[i]
	}
	ids, convs, senders, tos, cids, ctypes := make([]string, n), make([]string, n), make([]string, n),
		make([]string, n), make([]string, n), make([]string, n)
	backs, kinds, bodies, sent := make([]int64, n), make([]int32, n), make([][]byte, n), make([]time.Time, n)
	var users, msgIDs []string
	var userBacks []int64
	for i, r := range reqs {
		m := r.msg
		convLeft[m.ConvID]--
		ids[i], convs[i], backs[i], senders[i], tos[i], cids[i] = r.id, m.ConvID, convLeft[m.ConvID], m.From, m.To, m.ClientMsgID
		kinds[i], ctypes[i], bodies[i], sent[i] = m.Kind, m.ContentType, m.Body, m.SentAt
		for _, u := range m.Recipients {
			userLeft[u]--
			users = append(users, u)
			userBacks = append(userBacks, userLeft[u])
			msgIDs = append(msgIDs, r.id)
		}
	}
	b.Queue(pgInsertMessagesSQL, ids, convs, backs, senders, tos, cids, kinds, ctypes, bodies, sent)
	b.Queue(pgInsertInboxSQL, users, userBacks, msgIDs)
}

// The marks' statements: one per kind and batch, whatever the number of marks. Each mark's
// bound is read in the statement that writes (last_seq only grows, so a bound read a
// moment early is still one that exists); the marks within it are written, the highest
// per key, and a mark stored above its bound before the bound existed is lowered. Every
// mark gets a row back: its index, whether its bound let it in, and its key's mark after
// the write.
const (
	pgAcksSQL = `
WITH t AS (
  SELECT t.i, t.u, t.k, t.s, coalesce(b.last_seq, 0) AS bound
  FROM unnest($1::int[], $2::text[], $3::text[], $4::bigint[]) AS t(i, u, k, s)
  LEFT JOIN user_seqs b ON b.user_id = t.u
), up AS (
  INSERT INTO delivery_acks AS a (user_id, device_id, seq)
  SELECT DISTINCT ON (u, k) u, k, s FROM t WHERE s <= bound ORDER BY u, k, s DESC
  ON CONFLICT (user_id, device_id) DO UPDATE
  SET seq = GREATEST(LEAST(a.seq, coalesce((SELECT last_seq FROM user_seqs WHERE user_id = EXCLUDED.user_id), 0)), EXCLUDED.seq)
  RETURNING user_id, device_id, seq
)
SELECT t.i, t.s <= t.bound, coalesce(up.seq, 0) FROM t LEFT JOIN up ON up.user_id = t.u AND up.device_id = t.k`
	pgReadMarksSQL = `
WITH t AS (
  SELECT t.i, t.u, t.k, t.s, coalesce(b.last_seq, 0) AS bound
  FROM unnest($1::int[], $2::text[], $3::text[], $4::bigint[]) AS t(i, u, k, s)
  LEFT JOIN conversations b ON b.id = t.k
), up AS (
  INSERT INTO read_marks AS r (user_id, conv_id, seq)
  SELECT DISTINCT ON (u, k) u, k, s FROM t WHERE s <= bound ORDER BY u, k, s DESC
  ON CONFLICT (user_id, conv_id) DO UPDATE
  SET seq = GREATEST(LEAST(r.seq, coalesce((SELECT last_seq FROM conversations WHERE id = EXCLUDED.conv_id), 0)), EXCLUDED.seq)
  RETURNING user_id, conv_id, seq
)
SELECT t.i, t.s <= t.bound, coalesce(up.seq, 0) FROM t LEFT JOIN up ON up.user_id = t.u AND up.conv_id = t.k`
)

// markKinds are the kinds whose statement pgQueueMarks queues, in that order.
var markKinds = []markKind{markAck, markRead}

// pgQueueMarks queues one upsert per kind of mark present and returns the kinds queued.
func pgQueueMarks(b *pgx.Batch, marks []*markReq) []markKind {
	var queued []markKind
	for _, kind := range markKinds {
		var idx []int32
		var users, keys []string
		var seqs []int64
		for i, m := range marks {
			if m.kind == kind {
				idx, users, keys, seqs = append(idx, int32(i)), append(users, m.user), append(keys, m.key), append(seqs, m.seq)
			}
		}
		if len(idx) == 0 {
			continue
		}
		sql := pgAcksSQL
		if kind == markRead {
			sql = pgReadMarksSQL
		}
		b.Queue(sql, idx, users, keys, seqs)
		queued = append(queued, kind)
	}
	return queued
}

// pgReadMarks reads the marks' results queued by pgQueueMarks.
func pgReadMarks(br pgx.BatchResults, marks []*markReq, kinds []markKind) ([]markResult, error) {
	out := make([]markResult, len(marks))
	seen := 0
	for _, kind := range kinds {
		rows, err := br.Query()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", kind, err)
		}
		for rows.Next() {
			var i int32
			var ok bool
			var v int64
			if err := rows.Scan(&i, &ok, &v); err != nil {
				rows.Close()
				return nil, fmt.Errorf("%s: %w", kind, err)
			}
			if i < 0 || int(i) >= len(marks) {
				rows.Close()
				return nil, fmt.Errorf("%s: row for mark %d of %d", kind, i, len(marks))
			}
			if ok {
				out[i].seq = v
			} else {
				out[i].err = marks[i].kind.pastEnd()
			}
			seen++
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("%s: %w", kind, err)
		}
	}
	if seen != len(marks) {
		return nil, fmt.Errorf("marks: %d rows for %d marks", seen, len(marks))
	}
	return out, nil
}
