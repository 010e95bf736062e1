package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	// Registers the "sqlite" database/sql driver (pure Go, no cgo).
	_ "modernc.org/sqlite"
)

// sqliteStore is the embedded Store: one process owns the file. Writes go
// through one connection (SQLite has one writer anyway; a single connection
// turns lock contention into an orderly queue), reads through a pool that WAL
// mode lets run beside the writer.
type sqliteStore struct {
	path   string
	write  *sql.DB
	read   *sql.DB
	com    *committer
	closed atomic.Bool
}

// sqliteBusyTimeout is how long a connection waits for a lock held elsewhere
// (another process opening the file, a backup) before failing.
const sqliteBusyTimeout = 10 * time.Second

// OpenSQLite opens (creating if needed) the database file at path, applies
// pending migrations and starts the committer.
//
// The file runs in WAL mode with synchronous=FULL: Append promises a message
// is durable when it returns, and NORMAL would let a power loss drop the last
// commits. Group commit pays the one fsync per batch that FULL adds.
// temp_store=MEMORY keeps statement journals of the batch upserts off disk.
func OpenSQLite(ctx context.Context, path string, opt Options) (Store, error) {
	opt = opt.withDefaults()
	// The driver reads parameters after the first '?', and ":memory:" would
	// give each connection its own database.
	if path == "" || strings.ContainsRune(path, '?') || strings.HasPrefix(path, ":memory:") || strings.HasPrefix(path, "file:") {
		return nil, invalid("path", "must be a plain file path")
	}
	busy := fmt.Sprintf("_pragma=busy_timeout(%d)", sqliteBusyTimeout.Milliseconds())
	write, err := sql.Open("sqlite", path+"?"+busy+
		"&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=foreign_keys(1)&_pragma=temp_store(MEMORY)&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	write.SetMaxOpenConns(1)
	// The writer connection is kept open for the store's life.
	write.SetConnMaxIdleTime(0)
	write.SetConnMaxLifetime(0)
	if err := migrateSQLite(ctx, write, opt.Logger); err != nil {
		_ = write.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	read, err := sql.Open("sqlite", path+"?"+busy+"&_pragma=query_only(1)")
	if err != nil {
		_ = write.Close()
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	read.SetMaxOpenConns(max(4, runtime.GOMAXPROCS(0)))
	s := &sqliteStore{path: path, write: write, read: read}
	s.com = newCommitter(sqliteWriter{db: write}, backendSQLite, opt)
	return instrument(s, backendSQLite, opt), nil
}

func (s *sqliteStore) Append(ctx context.Context, m NewMessage) (Appended, error) {
	r := s.com.submit(ctx, &s.closed, []NewMessage{m})[0]
	return r.Appended, r.Err
}

func (s *sqliteStore) AppendBatch(ctx context.Context, ms []NewMessage) []AppendResult {
	return s.com.submit(ctx, &s.closed, ms)
}

const sqliteSyncSQL = `
SELECT i.seq, m.id, m.conv_id, m.conv_seq, m.sender, m.recipient, m.client_msg_id,
       m.kind, m.content_type, m.body, m.sent_at
FROM inbox i JOIN messages m ON m.id = i.msg_id
WHERE i.user_id = ? AND i.seq > ?
ORDER BY i.seq
LIMIT ?`

func (s *sqliteStore) Sync(ctx context.Context, userID string, after int64, limit int) ([]InboxMessage, bool, error) {
	if s.closed.Load() {
		return nil, false, ErrClosed
	}
	limit, err := checkSync(userID, after, limit)
	if err != nil {
		return nil, false, err
	}
	// One row more than asked tells whether more remain.
	rows, err := s.read.QueryContext(ctx, sqliteSyncSQL, userID, after, limit+1)
	if err != nil {
		return nil, false, fmt.Errorf("sync %s: %w", userID, err)
	}
	defer rows.Close()
	var msgs []InboxMessage
	for rows.Next() {
		var im InboxMessage
		var sentMS int64
		if err := rows.Scan(&im.Seq, &im.Message.ID, &im.Message.ConvID, &im.Message.ConvSeq,
			&im.Message.From, &im.Message.To, &im.Message.ClientMsgID, &im.Message.Kind,
			&im.Message.ContentType, &im.Message.Body, &sentMS); err != nil {
			return nil, false, fmt.Errorf("sync %s: %w", userID, err)
		}
		im.Message.SentAt = time.UnixMilli(sentMS).UTC()
		msgs = append(msgs, im)
	}
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("sync %s: %w", userID, err)
	}
	if len(msgs) > limit {
		return msgs[:limit], true, nil
	}
	return msgs, false, nil
}

func (s *sqliteStore) MaxSeq(ctx context.Context, userID string) (int64, error) {
	if s.closed.Load() {
		return 0, ErrClosed
	}
	if err := checkID("userID", userID); err != nil {
		return 0, err
	}
	return queryZero(ctx, s.read, "max seq", `SELECT last_seq FROM user_seqs WHERE user_id = ?`, userID)
}

func (s *sqliteStore) AckDelivered(ctx context.Context, userID, deviceID string, seq int64) (int64, error) {
	if err := checkMark("userID", userID, "deviceID", deviceID, seq); err != nil {
		return 0, err
	}
	return s.com.mark(ctx, &s.closed, &markReq{kind: markAck, user: userID, key: deviceID, seq: seq})
}

func (s *sqliteStore) DeliveredSeq(ctx context.Context, userID, deviceID string) (int64, error) {
	if s.closed.Load() {
		return 0, ErrClosed
	}
	if err := checkMark("userID", userID, "deviceID", deviceID, 0); err != nil {
		return 0, err
	}
	return queryZero(ctx, s.read, "delivered seq", `
SELECT min(a.seq, coalesce(u.last_seq, 0))
FROM delivery_acks a LEFT JOIN user_seqs u ON u.user_id = a.user_id
WHERE a.user_id = ? AND a.device_id = ?`, userID, deviceID)
}

func (s *sqliteStore) MarkRead(ctx context.Context, userID, convID string, seq int64) (int64, error) {
	if err := checkMark("userID", userID, "convID", convID, seq); err != nil {
		return 0, err
	}
	return s.com.mark(ctx, &s.closed, &markReq{kind: markRead, user: userID, key: convID, seq: seq})
}

func (s *sqliteStore) ReadSeq(ctx context.Context, userID, convID string) (int64, error) {
	if s.closed.Load() {
		return 0, ErrClosed
	}
	if err := checkMark("userID", userID, "convID", convID, 0); err != nil {
		return 0, err
	}
	return queryZero(ctx, s.read, "read seq", `
SELECT min(r.seq, coalesce(c.last_seq, 0))
FROM read_marks r LEFT JOIN conversations c ON c.id = r.conv_id
WHERE r.user_id = ? AND r.conv_id = ?`, userID, convID)
}

// Receipts answers all queries with one statement over a VALUES list (3 parameters a
// query, far under SQLite's limit at MaxBatch). The primary keys serve both lookups.
func (s *sqliteStore) Receipts(ctx context.Context, qs []ReceiptQuery) ([]Receipt, error) {
	if s.closed.Load() {
		return nil, ErrClosed
	}
	if err := checkReceiptQueries(qs); err != nil {
		return nil, err
	}
	out := make([]Receipt, len(qs))
	if len(qs) == 0 {
		return out, nil
	}
	// The queries travel as one JSON parameter: a VALUES list of 3,000 parameters costs
	// SQLite more to parse than to run.
	pairs := make([][2]string, len(qs))
	for i, q := range qs {
		pairs[i] = [2]string{q.UserID, q.ConvID}
		out[i] = Receipt{UserID: q.UserID, ConvID: q.ConvID}
	}
	arg, err := json.Marshal(pairs)
	if err != nil {
		return nil, fmt.Errorf("receipts: %w", err)
	}
	rows, err := s.read.QueryContext(ctx, `
WITH q(ord, user_id, conv_id) AS (SELECT key, json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?))
SELECT q.ord,
       min(coalesce((SELECT max(a.seq) FROM delivery_acks a WHERE a.user_id = q.user_id), 0),
           coalesce((SELECT u.last_seq FROM user_seqs u WHERE u.user_id = q.user_id), 0)),
       min(coalesce((SELECT r.seq FROM read_marks r WHERE r.user_id = q.user_id AND r.conv_id = q.conv_id), 0),
           coalesce((SELECT c.last_seq FROM conversations c WHERE c.id = q.conv_id), 0))
FROM q`, string(arg))
	if err != nil {
		return nil, fmt.Errorf("receipts: %w", err)
	}
	defer rows.Close()
	seen := 0
	for rows.Next() {
		var ord int
		var delivered, read int64
		if err := rows.Scan(&ord, &delivered, &read); err != nil {
			return nil, fmt.Errorf("receipts: %w", err)
		}
		if ord < 0 || ord >= len(out) {
			return nil, fmt.Errorf("receipts: row for query %d of %d", ord, len(qs))
		}
		out[ord].DeliveredSeq, out[ord].ReadSeq = delivered, read
		seen++
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("receipts: %w", err)
	}
	if seen != len(out) {
		return nil, fmt.Errorf("receipts: %d rows for %d queries", seen, len(qs))
	}
	return out, nil
}

// queryZero runs a query returning one int64, or 0 when it returns no row.
func queryZero(ctx context.Context, db *sql.DB, what, query string, args ...any) (int64, error) {
	var v int64
	err := db.QueryRowContext(ctx, query, args...).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("%s: %w", what, err)
	}
	return v, nil
}

func (s *sqliteStore) PutUser(ctx context.Context, u User) error {
	if s.closed.Load() {
		return ErrClosed
	}
	u, err := prepareUser(u)
	if err != nil {
		return err
	}
	_, err = s.write.ExecContext(ctx, `
INSERT INTO users (id, kind, display_name, password_hash, created_at) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, display_name = excluded.display_name,
    password_hash = excluded.password_hash, created_at = excluded.created_at`,
		u.ID, u.Kind, u.DisplayName, u.PasswordHash, u.CreatedAt.UnixMilli())
	if err != nil {
		return fmt.Errorf("put user %s: %w", u.ID, err)
	}
	return nil
}

func (s *sqliteStore) PutUserIfAbsent(ctx context.Context, u User) (bool, error) {
	if s.closed.Load() {
		return false, ErrClosed
	}
	u, err := prepareUser(u)
	if err != nil {
		return false, err
	}
	res, err := s.write.ExecContext(ctx, `
INSERT INTO users (id, kind, display_name, password_hash, created_at) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (id) DO NOTHING`,
		u.ID, u.Kind, u.DisplayName, u.PasswordHash, u.CreatedAt.UnixMilli())
	if err != nil {
		return false, fmt.Errorf("put user %s: %w", u.ID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("put user %s: %w", u.ID, err)
	}
	return n == 1, nil
}

// PutUsersIfAbsent inserts the batch with one multi-row statement (5 parameters a user),
// which is one transaction: the single writer connection serialises it with everything
// else, so no lock order is needed.
func (s *sqliteStore) PutUsersIfAbsent(ctx context.Context, us []User) (int, error) {
	if s.closed.Load() {
		return 0, ErrClosed
	}
	us, err := prepareUsers(us)
	if err != nil || len(us) == 0 {
		return 0, err
	}
	args := make([]any, 0, 5*len(us))
	for _, u := range us {
		args = append(args, u.ID, u.Kind, u.DisplayName, u.PasswordHash, u.CreatedAt.UnixMilli())
	}
	res, err := s.write.ExecContext(ctx, `
INSERT INTO users (id, kind, display_name, password_hash, created_at) VALUES `+values(len(us), 5)+`
ON CONFLICT (id) DO NOTHING`, args...)
	if err != nil {
		return 0, fmt.Errorf("put %d users: %w", len(us), err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("put %d users: %w", len(us), err)
	}
	return int(n), nil
}

// MissingUsers takes the ids as one JSON parameter: a list of 1,000 parameters costs
// SQLite more to parse than to run.
func (s *sqliteStore) MissingUsers(ctx context.Context, ids []string) ([]string, error) {
	if s.closed.Load() {
		return nil, ErrClosed
	}
	if err := checkIDs(ids); err != nil || len(ids) == 0 {
		return nil, err
	}
	arg, err := json.Marshal(ids)
	if err != nil {
		return nil, fmt.Errorf("missing users: %w", err)
	}
	rows, err := s.read.QueryContext(ctx, `SELECT id FROM users WHERE id IN (SELECT value FROM json_each(?))`, string(arg))
	if err != nil {
		return nil, fmt.Errorf("missing users: %w", err)
	}
	defer rows.Close()
	found, err := foundIDs(rows.Next, rows.Scan, rows.Err)
	if err != nil {
		return nil, err
	}
	return missingOf(ids, found), nil
}

func (s *sqliteStore) GetUser(ctx context.Context, id string) (User, error) {
	if s.closed.Load() {
		return User{}, ErrClosed
	}
	if err := checkID("id", id); err != nil {
		return User{}, err
	}
	u := User{ID: id}
	var createdMS int64
	err := s.read.QueryRowContext(ctx,
		`SELECT kind, display_name, password_hash, created_at FROM users WHERE id = ?`, id,
	).Scan(&u.Kind, &u.DisplayName, &u.PasswordHash, &createdMS)
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, fmt.Errorf("get user %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return User{}, fmt.Errorf("get user %s: %w", id, err)
	}
	u.CreatedAt = time.UnixMilli(createdMS).UTC()
	return u, nil
}

func (s *sqliteStore) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	s.com.close()
	return errors.Join(s.read.Close(), s.write.Close())
}

func (s *sqliteStore) queueStats() (pending, inflight int) { return s.com.queueStats() }
