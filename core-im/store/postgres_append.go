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

// pgWriter writes a batch in one transaction:
//
//  1. read back messages already stored under the batch's (sender, client id) pairs;
//  2. raise the conversation counters, then the inbox counters, each with one
//     upsert that locks its rows in id order (pipelined together);
//  3. insert the messages and the inbox rows (pipelined together);
//  4. commit.
//
// Between 1 and 3 another process may store the same (sender, client id); the
// unique index then fails the insert, and the retry finds the message in step 1.
type pgWriter struct {
	pool *pgxpool.Pool
}

// pgMaxAttempts bounds retries of transactions that lost a race (deadlock,
// serialization failure, a concurrent retry of the same client message id).
const pgMaxAttempts = 3

func (w pgWriter) writeBatch(ctx context.Context, reqs []*appendReq) ([]Appended, error) {
	var err error
	for range pgMaxAttempts {
		var out []Appended
		out, err = w.writeOnce(ctx, reqs)
		if err == nil || !pgRetryable(err) {
			return out, err
		}
	}
	return nil, err
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

func (w pgWriter) writeOnce(ctx context.Context, reqs []*appendReq) ([]Appended, error) {
	tx, err := w.pool.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	// After Commit this is a no-op.
	defer func() { _ = tx.Rollback(ctx) }()

	stored, err := pgFindStored(ctx, tx, reqs)
	if err != nil {
		return nil, err
	}
	fresh := freshRequests(reqs, stored)
	var made []Appended
	if len(fresh) > 0 {
		plan := planCounters(fresh)
		convLast, userLast, err := pgRaiseCounters(ctx, tx, plan)
		if err != nil {
			return nil, err
		}
		made = assignSeqs(fresh, plan, convLast, userLast)
		if err := pgInsert(ctx, tx, made); err != nil {
			return nil, err
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("commit: %w", err)
	}
	return mergeResults(reqs, stored, made), nil
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

// pgRaiseCounters raises the counters of plan and returns their new values.
// Conversations are locked before inboxes, always: that order is what keeps a
// conversation's messages in ConvSeq order inside every inbox.
func pgRaiseCounters(ctx context.Context, tx pgx.Tx, plan counterPlan) (conv, user map[string]int64, err error) {
	b := &pgx.Batch{}
	b.Queue(pgRaiseConvSQL, plan.convIDs, plan.convN)
	b.Queue(pgRaiseUserSQL, plan.userIDs, plan.userN)
	br := tx.SendBatch(ctx, b)
	defer br.Close()
	if conv, err = pgCollectCounters(br); err != nil {
		return nil, nil, fmt.Errorf("raise conversation seqs: %w", err)
	}
	if user, err = pgCollectCounters(br); err != nil {
		return nil, nil, fmt.Errorf("raise inbox seqs: %w", err)
	}
	if err := br.Close(); err != nil {
		return nil, nil, fmt.Errorf("raise seqs: %w", err)
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

const (
	pgInsertMessagesSQL = `
INSERT INTO messages (id, conv_id, conv_seq, sender, recipient, client_msg_id, kind, content_type, body, sent_at)
SELECT id::uuid, conv_id, conv_seq, sender, recipient, client_msg_id, kind, content_type, body, sent_at
FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[],
            $7::integer[], $8::text[], $9::bytea[], $10::timestamptz[])
  AS t(id, conv_id, conv_seq, sender, recipient, client_msg_id, kind, content_type, body, sent_at)`
	pgInsertInboxSQL = `
INSERT INTO inbox (user_id, seq, msg_id)
SELECT user_id, seq, msg_id::uuid FROM unnest($1::text[], $2::bigint[], $3::text[]) AS t(user_id, seq, msg_id)`
)

// pgInsert writes made with one statement per table: the cost of a batch
// hardly grows with its size.
func pgInsert(ctx context.Context, tx pgx.Tx, made []Appended) error {
	n := len(made)
	ids, convs, senders, tos, cids, ctypes := make([]string, n), make([]string, n), make([]string, n),
		make([]string, n), make([]string, n), make([]string, n)
	seqs, kinds, bodies, sent := make([]int64, n), make([]int32, n), make([][]byte, n), make([]time.Time, n)
	var users, msgIDs []string
	var inboxSeqs []int64
	for i, a := range made {
		m := a.Message
		ids[i], convs[i], seqs[i], senders[i], tos[i], cids[i] = m.ID, m.ConvID, m.ConvSeq, m.From, m.To, m.ClientMsgID
		kinds[i], ctypes[i], bodies[i], sent[i] = m.Kind, m.ContentType, m.Body, m.SentAt
		for _, e := range a.Inbox {
			users = append(users, e.UserID)
			inboxSeqs = append(inboxSeqs, e.Seq)
			msgIDs = append(msgIDs, m.ID)
		}
	}
	b := &pgx.Batch{}
	b.Queue(pgInsertMessagesSQL, ids, convs, seqs, senders, tos, cids, kinds, ctypes, bodies, sent)
	b.Queue(pgInsertInboxSQL, users, inboxSeqs, msgIDs)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("insert messages: %w", err)
	}
	return nil
}
