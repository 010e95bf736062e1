package store

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Backend names, as metrics and spans (db.system.name) give them.
const (
	backendPostgres = "postgresql"
	backendSQLite   = "sqlite"
)

// pgStore is the PostgreSQL Store. Several processes may share its database:
// every sequence is assigned by the database inside the writing transaction.
type pgStore struct {
	pool   *pgxpool.Pool
	com    *committer
	closed atomic.Bool
}

// OpenPostgres connects to url (a libpq URL or key=value string; a
// search_path parameter selects the schema), applies pending migrations and
// starts the committer.
func OpenPostgres(ctx context.Context, url string, opt Options) (Store, error) {
	opt = opt.withDefaults()
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("open postgres: parse url: %w", err)
	}
	if opt.QueryTracer != nil {
		cfg.ConnConfig.Tracer = opt.QueryTracer
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	if err := migratePostgres(ctx, pool, opt.Logger); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	s := &pgStore{pool: pool}
	s.com = newCommitter(pgWriter{pool: pool}, backendPostgres, opt)
	return instrument(s, backendPostgres, opt), nil
}

func (s *pgStore) Append(ctx context.Context, m NewMessage) (Appended, error) {
	r := s.com.submit(ctx, &s.closed, []NewMessage{m})[0]
	return r.Appended, r.Err
}

func (s *pgStore) AppendBatch(ctx context.Context, ms []NewMessage) []AppendResult {
	return s.com.submit(ctx, &s.closed, ms)
}

const pgSyncSQL = `
SELECT i.seq, m.id::text, m.conv_id, m.conv_seq, m.sender, m.recipient, m.client_msg_id,
       m.kind, m.content_type, m.body, m.sent_at
FROM inbox i JOIN messages m ON m.id = i.msg_id
WHERE i.user_id = $1 AND i.seq > $2
ORDER BY i.seq
LIMIT $3`

func (s *pgStore) Sync(ctx context.Context, userID string, after int64, limit int) ([]InboxMessage, bool, error) {
	if s.closed.Load() {
		return nil, false, ErrClosed
	}
	limit, err := checkSync(userID, after, limit)
	if err != nil {
		return nil, false, err
	}
	// One row more than asked tells whether more remain.
	rows, err := s.pool.Query(ctx, pgSyncSQL, userID, after, limit+1)
	if err != nil {
		return nil, false, fmt.Errorf("sync %s: %w", userID, err)
	}
	msgs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (InboxMessage, error) {
		var im InboxMessage
		err := row.Scan(&im.Seq, &im.Message.ID, &im.Message.ConvID, &im.Message.ConvSeq,
			&im.Message.From, &im.Message.To, &im.Message.ClientMsgID, &im.Message.Kind,
			&im.Message.ContentType, &im.Message.Body, &im.Message.SentAt)
		im.Message.SentAt = im.Message.SentAt.UTC()
		return im, err
	})
	if err != nil {
		return nil, false, fmt.Errorf("sync %s: %w", userID, err)
	}
	if len(msgs) > limit {
		return msgs[:limit], true, nil
	}
	return msgs, false, nil
}

func (s *pgStore) MaxSeq(ctx context.Context, userID string) (int64, error) {
	if s.closed.Load() {
		return 0, ErrClosed
	}
	if err := checkID("userID", userID); err != nil {
		return 0, err
	}
	return s.queryZero(ctx, "max seq", `SELECT last_seq FROM user_seqs WHERE user_id = $1`, userID)
}

func (s *pgStore) AckDelivered(ctx context.Context, userID, deviceID string, seq int64) (int64, error) {
	if err := checkMark("userID", userID, "deviceID", deviceID, seq); err != nil {
		return 0, err
	}
	return s.com.mark(ctx, &s.closed, &markReq{kind: markAck, user: userID, key: deviceID, seq: seq})
}

func (s *pgStore) DeliveredSeq(ctx context.Context, userID, deviceID string) (int64, error) {
	if s.closed.Load() {
		return 0, ErrClosed
	}
	if err := checkMark("userID", userID, "deviceID", deviceID, 0); err != nil {
		return 0, err
	}
	return s.queryZero(ctx, "delivered seq", `
SELECT LEAST(a.seq, coalesce(u.last_seq, 0))
FROM delivery_acks a LEFT JOIN user_seqs u ON u.user_id = a.user_id
WHERE a.user_id = $1 AND a.device_id = $2`, userID, deviceID)
}

func (s *pgStore) MarkRead(ctx context.Context, userID, convID string, seq int64) (int64, error) {
	if err := checkMark("userID", userID, "convID", convID, seq); err != nil {
		return 0, err
	}
	return s.com.mark(ctx, &s.closed, &markReq{kind: markRead, user: userID, key: convID, seq: seq})
}

func (s *pgStore) ReadSeq(ctx context.Context, userID, convID string) (int64, error) {
	if s.closed.Load() {
		return 0, ErrClosed
	}
	if err := checkMark("userID", userID, "convID", convID, 0); err != nil {
		return 0, err
	}
	return s.queryZero(ctx, "read seq", `
SELECT LEAST(r.seq, coalesce(c.last_seq, 0))
FROM read_marks r LEFT JOIN conversations c ON c.id = r.conv_id
WHERE r.user_id = $1 AND r.conv_id = $2`, userID, convID)
}

// pgReceiptsSQL answers all queries in one statement. The primary keys serve both
// lookups: delivery_acks (user_id, device_id) gives a user's acks as one index range,
// read_marks (user_id, conv_id) the mark.
const pgReceiptsSQL = `
SELECT LEAST(coalesce((SELECT max(a.seq) FROM delivery_acks a WHERE a.user_id = q.user_id), 0),
             coalesce((SELECT u.last_seq FROM user_seqs u WHERE u.user_id = q.user_id), 0)),
       LEAST(coalesce((SELECT r.seq FROM read_marks r WHERE r.user_id = q.user_id AND r.conv_id = q.conv_id), 0),
             coalesce((SELECT c.last_seq FROM conversations c WHERE c.id = q.conv_id), 0))
FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS q(user_id, conv_id, ord)
ORDER BY q.ord`

func (s *pgStore) Receipts(ctx context.Context, qs []ReceiptQuery) ([]Receipt, error) {
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
	users, convs := make([]string, len(qs)), make([]string, len(qs))
	for i, q := range qs {
		users[i], convs[i] = q.UserID, q.ConvID
		out[i] = Receipt{UserID: q.UserID, ConvID: q.ConvID}
	}
	rows, err := s.pool.Query(ctx, pgReceiptsSQL, users, convs)
	if err != nil {
		return nil, fmt.Errorf("receipts: %w", err)
	}
	defer rows.Close()
	i := 0
	for ; rows.Next(); i++ {
		if i == len(out) {
			return nil, fmt.Errorf("receipts: more rows than the %d queries", len(qs))
		}
		if err := rows.Scan(&out[i].DeliveredSeq, &out[i].ReadSeq); err != nil {
			return nil, fmt.Errorf("receipts: %w", err)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("receipts: %w", err)
	}
	if i != len(out) {
		return nil, fmt.Errorf("receipts: %d rows for %d queries", i, len(qs))
	}
	return out, nil
}

// queryZero runs a query returning one int64, or 0 when it returns no row.
func (s *pgStore) queryZero(ctx context.Context, what, sql string, args ...any) (int64, error) {
	var v int64
	err := s.pool.QueryRow(ctx, sql, args...).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("%s: %w", what, err)
	}
	return v, nil
}

func (s *pgStore) PutUser(ctx context.Context, u User) error {
	if s.closed.Load() {
		return ErrClosed
	}
	u, err := prepareUser(u)
	if err != nil {
		return err
	}
	_, err = s.pool.Exec(ctx, `
INSERT INTO users (id, kind, display_name, password_hash, created_at) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (id) DO UPDATE SET kind = EXCLUDED.kind, display_name = EXCLUDED.display_name,
    password_hash = EXCLUDED.password_hash, created_at = EXCLUDED.created_at`,
		u.ID, u.Kind, u.DisplayName, u.PasswordHash, u.CreatedAt)
	if err != nil {
		return fmt.Errorf("put user %s: %w", u.ID, err)
	}
	return nil
}

func (s *pgStore) PutUserIfAbsent(ctx context.Context, u User) (bool, error) {
	if s.closed.Load() {
		return false, ErrClosed
	}
	u, err := prepareUser(u)
	if err != nil {
		return false, err
	}
	tag, err := s.pool.Exec(ctx, `
INSERT INTO users (id, kind, display_name, password_hash, created_at) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (id) DO NOTHING`,
		u.ID, u.Kind, u.DisplayName, u.PasswordHash, u.CreatedAt)
	if err != nil {
		return false, fmt.Errorf("put user %s: %w", u.ID, err)
	}
	return tag.RowsAffected() == 1, nil
}

// pgPutUsersSQL inserts a whole batch in one statement (so one transaction). Rows go in
// in id order: two calls sharing ids wait on each other's inserts in the same order, never
// in a cycle. COLLATE "C" keeps that order independent of the database's locale.
const pgPutUsersSQL = `
INSERT INTO users (id, kind, display_name, password_hash, created_at)
SELECT id, kind, display_name, password_hash, created_at
FROM unnest($1::text[], $2::text[], $3::text[], $4::bytea[], $5::timestamptz[])
  AS t(id, kind, display_name, password_hash, created_at)
ORDER BY id COLLATE "C"
ON CONFLICT (id) DO NOTHING`

func (s *pgStore) PutUsersIfAbsent(ctx context.Context, us []User) (int, error) {
	if s.closed.Load() {
		return 0, ErrClosed
	}
	us, err := prepareUsers(us)
	if err != nil || len(us) == 0 {
		return 0, err
	}
	n := len(us)
	ids, kinds, names := make([]string, n), make([]string, n), make([]string, n)
	hashes, created := make([][]byte, n), make([]time.Time, n)
	for i, u := range us {
		ids[i], kinds[i], names[i], hashes[i], created[i] = u.ID, u.Kind, u.DisplayName, u.PasswordHash, u.CreatedAt
	}
	tag, err := s.pool.Exec(ctx, pgPutUsersSQL, ids, kinds, names, hashes, created)
	if err != nil {
		return 0, fmt.Errorf("put %d users: %w", n, err)
	}
	return int(tag.RowsAffected()), nil
}

func (s *pgStore) MissingUsers(ctx context.Context, ids []string) ([]string, error) {
	if s.closed.Load() {
		return nil, ErrClosed
	}
	if err := checkIDs(ids); err != nil || len(ids) == 0 {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, `SELECT id FROM users WHERE id = ANY($1)`, ids)
	if err != nil {
		return nil, fmt.Errorf("missing users: %w", err)
	}
	found, err := foundIDs(rows.Next, rows.Scan, rows.Err)
	rows.Close()
	if err != nil {
		return nil, err
	}
	return missingOf(ids, found), nil
}

// foundIDs reads the rows of an id query into a set.
func foundIDs(next func() bool, scan func(...any) error, rowsErr func() error) (map[string]bool, error) {
	found := map[string]bool{}
	for next() {
		var id string
		if err := scan(&id); err != nil {
			return nil, fmt.Errorf("missing users: %w", err)
		}
		found[id] = true
	}
	if err := rowsErr(); err != nil {
		return nil, fmt.Errorf("missing users: %w", err)
	}
	return found, nil
}

func (s *pgStore) GetUser(ctx context.Context, id string) (User, error) {
	if s.closed.Load() {
		return User{}, ErrClosed
	}
	if err := checkID("id", id); err != nil {
		return User{}, err
	}
	u := User{ID: id}
	var created time.Time
	err := s.pool.QueryRow(ctx,
		`SELECT kind, display_name, password_hash, created_at FROM users WHERE id = $1`, id,
	).Scan(&u.Kind, &u.DisplayName, &u.PasswordHash, &created)
	if errors.Is(err, pgx.ErrNoRows) {
		return User{}, fmt.Errorf("get user %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return User{}, fmt.Errorf("get user %s: %w", id, err)
	}
	u.CreatedAt = created.UTC()
	return u, nil
}

func (s *pgStore) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	s.com.close()
	s.pool.Close()
	return nil
}

func (s *pgStore) queueStats() (pending, inflight int) { return s.com.queueStats() }
