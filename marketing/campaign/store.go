package campaign

import (
	"context"
	"crypto/rand"
	"database/sql"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	// Registers the "sqlite" database/sql driver (pure Go, no cgo).
	_ "modernc.org/sqlite"
)

//go:embed migrations
var migrationFiles embed.FS

// migrationsTable keeps marketing's schema versions apart from the IM store's, which may
// share the database.
const migrationsTable = "marketing_schema_migrations"

// Options tune a Store.
type Options struct {
	Logger *slog.Logger // nil: discard
	// QueryTracer, when set, traces PostgreSQL statements (otelpgx).
	QueryTracer pgx.QueryTracer
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Store is marketing's durable state (staff keys, audit log, merchants, campaigns and
// their recipients) on PostgreSQL or SQLite, through database/sql: pgx's stdlib driver or
// modernc's SQLite. One SQL text serves both dialects where it can; the few places that
// differ ask s.pg.
//
// Every method that changes something a person asked for takes the Actor and writes the
// audit entry in the same transaction, so there is never a change without its entry.
type Store struct {
	db  *sql.DB
	pg  bool
	log *slog.Logger
	now func() time.Time
}

// OpenPostgres connects to url and applies pending migrations (several processes may
// start at once: a session lock serialises them).
func OpenPostgres(ctx context.Context, url string, opt Options) (*Store, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("campaign store: %w", err)
	}
	if opt.QueryTracer != nil {
		cfg.Tracer = opt.QueryTracer
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(16)
	db.SetMaxIdleConns(16)
	db.SetConnMaxIdleTime(5 * time.Minute)
	s := newStore(db, true, opt)
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("campaign store: %w", err)
	}
	if err := s.migrate(ctx, goose.DialectPostgres, goose.WithSessionLocker(locker)); err != nil {
		_ = db.Close()
		return nil, err
	}
	return s, nil
}

// sqliteBusyTimeout is how long a connection waits for another's write lock.
const sqliteBusyTimeout = 10 * time.Second

// OpenSQLite opens (creating if needed) the database file at path and applies pending
// migrations. It is a file of its own, not the IM store's: the two write at once and
// SQLite has one writer per file. One connection serialises writes in process.
func OpenSQLite(ctx context.Context, path string, opt Options) (*Store, error) {
	if path == "" || strings.ContainsAny(path, "?") || strings.HasPrefix(path, ":memory:") || strings.HasPrefix(path, "file:") {
		return nil, fmt.Errorf("campaign store: sqlite path must be a plain file path")
	}
	db, err := sql.Open("sqlite", fmt.Sprintf("%s?_pragma=busy_timeout(%d)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_txlock=immediate",
		path, sqliteBusyTimeout.Milliseconds()))
	if err != nil {
		return nil, fmt.Errorf("campaign store: %w", err)
	}
	// One connection: SQLite has one writer, and a single connection turns lock
	// contention into a queue. Reads are short.
	db.SetMaxOpenConns(1)
	db.SetConnMaxIdleTime(0)
	db.SetConnMaxLifetime(0)
	s := newStore(db, false, opt)
	if err := s.migrate(ctx, goose.DialectSQLite3); err != nil {
		_ = db.Close()
		return nil, err
	}
	return s, nil
}

func newStore(db *sql.DB, pg bool, opt Options) *Store {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &Store{db: db, pg: pg, log: opt.Logger, now: opt.Now}
}

func (s *Store) migrate(ctx context.Context, dialect goose.Dialect, opts ...goose.ProviderOption) error {
	dir := "migrations/sqlite"
	if s.pg {
		dir = "migrations/postgres"
	}
	sub, err := fs.Sub(migrationFiles, dir)
	if err != nil {
		return fmt.Errorf("campaign migrations: %w", err)
	}
	opts = append(opts, goose.WithTableName(migrationsTable), goose.WithDisableGlobalRegistry(true))
	p, err := goose.NewProvider(dialect, s.db, sub, opts...)
	if err != nil {
		return fmt.Errorf("campaign migrations: %w", err)
	}
	res, err := p.Up(ctx)
	if err != nil {
		return fmt.Errorf("campaign migrations: %w", err)
	}
	for _, r := range res {
		s.log.InfoContext(ctx, "campaign store migration applied", "version", r.Source.Version, "path", r.Source.Path)
	}
	return nil
}

// Close releases the database.
func (s *Store) Close() error { return s.db.Close() }

// Ping reports whether the database answers (readiness).
func (s *Store) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("campaign store: %w: %w", ErrUnavailable, err)
	}
	return nil
}

// q rewrites a statement written with ? placeholders for the dialect: PostgreSQL wants $n.
func (s *Store) q(query string) string {
	if !s.pg {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteByte(query[i])
	}
	return b.String()
}

// tx runs fn in a transaction, committed when fn returns nil.
func (s *Store) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return s.wrap("begin", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return s.wrap("commit", err)
	}
	return nil
}

// wrap marks an error of the database itself (not of the caller's input) as temporary:
// a database restarting is something a retry cures.
func (s *Store) wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	var fe *FieldError
	var se *StateError
	switch {
	case errors.Is(err, ErrNotFound), errors.Is(err, ErrConflict), errors.Is(err, ErrLeaseLost),
		errors.As(err, &fe), errors.As(err, &se), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%s: %w", op, err)
	case errors.Is(err, sql.ErrConnDone) && s.db.Stats().OpenConnections == 0:
		return fmt.Errorf("%s: %w", op, ErrClosed)
	}
	return fmt.Errorf("%s: %w: %w", op, ErrUnavailable, err)
}

// isUnique reports a unique-constraint violation on either dialect.
func isUnique(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "23505"
	}
	return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
}

// audit writes one audit entry inside tx.
func (s *Store) audit(ctx context.Context, tx *sql.Tx, a Actor, action, target string, before, after any) error {
	b, err := auditJSON(before)
	if err != nil {
		return err
	}
	af, err := auditJSON(after)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, s.q(`INSERT INTO audit_log (at, actor_id, actor_name, action, target, before, after, trace_id)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)`), ms(s.now()), a.KeyID, a.Name, action, target, b, af, a.TraceID)
	return s.wrap("audit", err)
}

func newID(prefix string) string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

func ms(t time.Time) int64 { return t.UnixMilli() }

func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }

func fromNullMS(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMS(v.Int64)
	return &t
}

func clampLimit(n int) int {
	if n <= 0 {
		return DefaultPage
	}
	return min(n, MaxPage)
}
