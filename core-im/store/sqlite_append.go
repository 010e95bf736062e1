package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// sqliteWriter writes a batch in one IMMEDIATE transaction on the writer connection,
// with the steps of pgWriter: the batch's messages are taken to be new, and a message
// stored before under the same (sender, client id) rolls the transaction back on the
// unique index, after which the batch is written again reading back what is stored first.
// The driver parses a statement on every execution, and parsing dominated per-row
// statements, so each step is one multi-row statement per chunk of rows.
type sqliteWriter struct {
	db *sql.DB
}

// sqliteChunkRows keeps a multi-row statement under SQLite's limit of 32766
// bound parameters (messages bind 10 per row).
const sqliteChunkRows = 1000

func (w sqliteWriter) writeBatch(ctx context.Context, reqs []*appendReq, marks []*markReq) ([]Appended, []markResult, error) {
	out, mres, err := w.write(ctx, reqs, marks, false)
	if sqliteConflict(err) {
		return w.write(ctx, reqs, marks, true)
	}
	return out, mres, err
}

// sqliteConflict tells a constraint refusing an insert: a unique index, most likely. Any
// other constraint fails the checked write as well, and is reported from there.
func sqliteConflict(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_CONSTRAINT
}

func (w sqliteWriter) write(ctx context.Context, reqs []*appendReq, marks []*markReq, find bool) (_ []Appended, _ []markResult, err error) {
	tx, err := w.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("begin: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	var stored map[string]Appended
	if find {
		if stored, err = sqliteFindStored(ctx, tx, reqs); err != nil {
			return nil, nil, err
		}
	}
	fresh := freshRequests(reqs, stored)
	var made []Appended
	if len(fresh) > 0 {
		plan := planCounters(fresh)
		convLast, err := sqliteRaise(ctx, tx, "conversations", "id", plan.convIDs, plan.convN)
		if err != nil {
			return nil, nil, fmt.Errorf("raise conversation seqs: %w", err)
		}
		userLast, err := sqliteRaise(ctx, tx, "user_seqs", "user_id", plan.userIDs, plan.userN)
		if err != nil {
			return nil, nil, fmt.Errorf("raise inbox seqs: %w", err)
		}
		made = assignSeqs(fresh, plan, convLast, userLast)
		if err := sqliteInsert(ctx, tx, made); err != nil {
			return nil, nil, err
		}
	}
	mres, err := sqliteMarks(ctx, tx, marks)
	if err != nil {
		return nil, nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, nil, fmt.Errorf("commit: %w", err)
	}
	return mergeResults(reqs, stored, made), mres, nil
}

// The marks' statements: the bound is read in the statement that writes, and a mark
// stored above it before the bound existed is lowered. No row back means the bound
// refused the mark.
const (
	sqliteAckSQL = `
INSERT INTO delivery_acks (user_id, device_id, seq)
SELECT ?1, ?2, ?3 WHERE ?3 <= coalesce((SELECT last_seq FROM user_seqs WHERE user_id = ?1), 0)
ON CONFLICT (user_id, device_id) DO UPDATE
SET seq = max(min(seq, coalesce((SELECT last_seq FROM user_seqs WHERE user_id = excluded.user_id), 0)), excluded.seq)
RETURNING seq`
	sqliteReadMarkSQL = `
INSERT INTO read_marks (user_id, conv_id, seq)
SELECT ?1, ?2, ?3 WHERE ?3 <= coalesce((SELECT last_seq FROM conversations WHERE id = ?2), 0)
ON CONFLICT (user_id, conv_id) DO UPDATE
SET seq = max(min(seq, coalesce((SELECT last_seq FROM conversations WHERE id = excluded.conv_id), 0)), excluded.seq)
RETURNING seq`
)

// sqliteMarks writes marks in their queue order, one prepared statement per kind (the
// one writer connection means no lock order to keep).
func sqliteMarks(ctx context.Context, tx *sql.Tx, marks []*markReq) ([]markResult, error) {
	if len(marks) == 0 {
		return nil, nil
	}
	out := make([]markResult, len(marks))
	stmts := map[markKind]*sql.Stmt{}
	defer func() {
		for _, st := range stmts {
			_ = st.Close()
		}
	}()
	for i, m := range marks {
		st := stmts[m.kind]
		if st == nil {
			q := sqliteAckSQL
			if m.kind == markRead {
				q = sqliteReadMarkSQL
			}
			var err error
			if st, err = tx.PrepareContext(ctx, q); err != nil {
				return nil, fmt.Errorf("%s: %w", m.kind, err)
			}
			stmts[m.kind] = st
		}
		err := st.QueryRowContext(ctx, m.user, m.key, m.seq).Scan(&out[i].seq)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			out[i].err = m.kind.pastEnd()
		case err != nil:
			return nil, fmt.Errorf("%s: %w", m.kind, err)
		}
	}
	return out, nil
}

// values returns "(?,?),(?,?)" for rows rows of cols parameters.
func values(rows, cols int) string {
	row := "(" + strings.TrimSuffix(strings.Repeat("?,", cols), ",") + ")"
	return strings.TrimSuffix(strings.Repeat(row+",", rows), ",")
}

// chunks calls f with consecutive [lo, hi) ranges of at most sqliteChunkRows.
func chunks(n int, f func(lo, hi int) error) error {
	for lo := 0; lo < n; lo += sqliteChunkRows {
		if err := f(lo, min(lo+sqliteChunkRows, n)); err != nil {
			return err
		}
	}
	return nil
}

// sqliteFindStored returns, by dedup key, the messages of reqs stored before.
func sqliteFindStored(ctx context.Context, tx *sql.Tx, reqs []*appendReq) (map[string]Appended, error) {
	var args []any
	for _, r := range reqs {
		if _, ok := r.dedupKey(); ok {
			args = append(args, r.msg.From, r.msg.ClientMsgID)
		}
	}
	stored := make(map[string]Appended)
	var ids []any
	err := chunks(len(args)/2, func(lo, hi int) error {
		// The client_msg_id condition lets the planner use the partial unique index.
		rows, err := tx.QueryContext(ctx, `
SELECT id, conv_id, conv_seq, sender, recipient, client_msg_id, kind, content_type, body, sent_at
FROM messages WHERE client_msg_id <> '' AND (sender, client_msg_id) IN (VALUES `+values(hi-lo, 2)+`)`,
			args[2*lo:2*hi]...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var m Message
			var sentMS int64
			if err := rows.Scan(&m.ID, &m.ConvID, &m.ConvSeq, &m.From, &m.To, &m.ClientMsgID,
				&m.Kind, &m.ContentType, &m.Body, &sentMS); err != nil {
				return err
			}
			m.SentAt = time.UnixMilli(sentMS).UTC()
			stored[m.From+"\x00"+m.ClientMsgID] = Appended{Message: m}
			ids = append(ids, m.ID)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("find stored: %w", err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	inbox := make(map[string][]InboxEntry)
	err = chunks(len(ids), func(lo, hi int) error {
		rows, err := tx.QueryContext(ctx, `SELECT msg_id, user_id, seq FROM inbox WHERE msg_id IN (`+
			strings.TrimSuffix(strings.Repeat("?,", hi-lo), ",")+`) ORDER BY msg_id, user_id`, ids[lo:hi]...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			var e InboxEntry
			if err := rows.Scan(&id, &e.UserID, &e.Seq); err != nil {
				return err
			}
			inbox[id] = append(inbox[id], e)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("find stored inbox: %w", err)
	}
	for key, a := range stored {
		a.Inbox = inbox[a.Message.ID]
		stored[key] = a
	}
	return stored, nil
}

// sqliteRaise adds n[i] to the counter ids[i] of table and returns the new
// values. table and key are constants of this package, never input.
func sqliteRaise(ctx context.Context, tx *sql.Tx, table, key string, ids []string, n []int64) (map[string]int64, error) {
	last := make(map[string]int64, len(ids))
	err := chunks(len(ids), func(lo, hi int) error {
		args := make([]any, 0, 2*(hi-lo))
		for i := lo; i < hi; i++ {
			args = append(args, ids[i], n[i])
		}
		rows, err := tx.QueryContext(ctx, `INSERT INTO `+table+` (`+key+`, last_seq) VALUES `+values(hi-lo, 2)+`
ON CONFLICT (`+key+`) DO UPDATE SET last_seq = last_seq + excluded.last_seq
RETURNING `+key+`, last_seq`, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			var v int64
			if err := rows.Scan(&id, &v); err != nil {
				return err
			}
			last[id] = v
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	if len(last) != len(ids) {
		return nil, fmt.Errorf("raised %d of %d counters", len(last), len(ids))
	}
	return last, nil
}

// sqliteInsert writes the rows of made. OR ROLLBACK spares SQLite a
// statement journal per insert: a conflict fails the whole batch anyway.
func sqliteInsert(ctx context.Context, tx *sql.Tx, made []Appended) error {
	err := chunks(len(made), func(lo, hi int) error {
		args := make([]any, 0, 10*(hi-lo))
		for _, a := range made[lo:hi] {
			m := a.Message
			args = append(args, m.ID, m.ConvID, m.ConvSeq, m.From, m.To, m.ClientMsgID,
				m.Kind, m.ContentType, m.Body, m.SentAt.UnixMilli())
		}
		_, err := tx.ExecContext(ctx, `
INSERT OR ROLLBACK INTO messages (id, conv_id, conv_seq, sender, recipient, client_msg_id, kind, content_type, body, sent_at)
VALUES `+values(hi-lo, 10), args...)
		return err
	})
	if err != nil {
		return fmt.Errorf("insert messages: %w", err)
	}
	var inbox []any
	for _, a := range made {
		for _, e := range a.Inbox {
			inbox = append(inbox, e.UserID, e.Seq, a.Message.ID)
		}
	}
	err = chunks(len(inbox)/3, func(lo, hi int) error {
		_, err := tx.ExecContext(ctx, `INSERT OR ROLLBACK INTO inbox (user_id, seq, msg_id) VALUES `+values(hi-lo, 3),
			inbox[3*lo:3*hi]...)
		return err
	})
	if err != nil {
		return fmt.Errorf("insert inbox: %w", err)
	}
	return nil
}
