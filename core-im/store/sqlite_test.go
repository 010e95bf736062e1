package store

import (
	"database/sql"
	"errors"
	"path/filepath"
	"sync"
	"testing"
)

func sqliteBackend() backend {
	return backend{
		name: "sqlite",
		open: func(t testing.TB, opt Options) Store {
			t.Helper()
			return openSQLiteAt(t, filepath.Join(t.TempDir(), "im.db"), opt)
		},
		holdWrites: func(t testing.TB, s Store) func() {
			t.Helper()
			path := s.(*sqliteStore).path
			db, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(10000)")
			if err != nil {
				t.Fatal(err)
			}
			conn, err := db.Conn(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if _, err := conn.ExecContext(t.Context(), "BEGIN IMMEDIATE"); err != nil {
				t.Fatal(err)
			}
			var once sync.Once
			release := func() {
				once.Do(func() {
					_, err := conn.ExecContext(t.Context(), "ROLLBACK")
					err = errors.Join(err, conn.Close(), db.Close())
					if err != nil {
						t.Errorf("release write lock: %v", err)
					}
				})
			}
			t.Cleanup(release)
			return release
		},
		plantConflict: func(t testing.TB, s Store, convID string) {
			t.Helper()
			_, err := s.(*sqliteStore).write.ExecContext(t.Context(), `
INSERT INTO messages (id, conv_id, conv_seq, sender, recipient, client_msg_id, kind, content_type, body, sent_at)
VALUES ('planted', ?, 1, 'x', 'x', '', 1, '', x'', 0)`, convID)
			if err != nil {
				t.Fatal(err)
			}
		},
		plantMarks: func(t testing.TB, s Store, user, convID string, seq int64) {
			t.Helper()
			db := s.(*sqliteStore).write
			if _, err := db.ExecContext(t.Context(), `INSERT INTO delivery_acks (user_id, device_id, seq) VALUES (?, 'phone', ?)`, user, seq); err != nil {
				t.Fatal(err)
			}
			if _, err := db.ExecContext(t.Context(), `INSERT INTO read_marks (user_id, conv_id, seq) VALUES (?, ?, ?)`, user, convID, seq); err != nil {
				t.Fatal(err)
			}
		},
	}
}

func openSQLiteAt(t testing.TB, path string, opt Options) Store {
	t.Helper()
	s, err := OpenSQLite(t.Context(), path, opt)
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return s
}

func TestSQLiteContract(t *testing.T) {
	runContract(t, sqliteBackend())
}

// Everything acknowledged before Close is there after reopening, and
// sequences continue where they stopped.
func TestSQLiteReopenKeepsEverything(t *testing.T) {
	path := filepath.Join(t.TempDir(), "im.db")
	s, err := OpenSQLite(t.Context(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var sent []Appended
	for i := range 30 {
		a, err := s.Append(t.Context(), chat("m1", "c1", ""))
		if err != nil {
			t.Fatalf("append %d: %v", i, err)
		}
		sent = append(sent, a)
	}
	if _, err := s.AckDelivered(t.Context(), "m1", "phone", 7); err != nil {
		t.Fatal(err)
	}
	if _, err := s.MarkRead(t.Context(), "c1", convOf("m1", "c1"), 9); err != nil {
		t.Fatal(err)
	}
	if err := s.PutUser(t.Context(), User{ID: "m1", Kind: UserMerchant, DisplayName: "Shop", PasswordHash: []byte("h")}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = openSQLiteAt(t, path, Options{})
	inbox := syncAll(t, s, "c1")
	if len(inbox) != len(sent) {
		t.Fatalf("after reopen c1 has %d messages, want %d", len(inbox), len(sent))
	}
	for i, im := range inbox {
		if im.Message.ID != sent[i].Message.ID || im.Message.ConvSeq != int64(i+1) {
			t.Fatalf("after reopen entry %d = %s/%d, want %s/%d", i, im.Message.ID, im.Message.ConvSeq, sent[i].Message.ID, i+1)
		}
	}
	if got, _ := s.DeliveredSeq(t.Context(), "m1", "phone"); got != 7 {
		t.Errorf("delivered seq after reopen = %d, want 7", got)
	}
	if got, _ := s.ReadSeq(t.Context(), "c1", convOf("m1", "c1")); got != 9 {
		t.Errorf("read seq after reopen = %d, want 9", got)
	}
	if _, err := s.GetUser(t.Context(), "m1"); err != nil {
		t.Errorf("user after reopen: %v", err)
	}
	a, err := s.Append(t.Context(), chat("c1", "m1", ""))
	if err != nil {
		t.Fatal(err)
	}
	if a.Message.ConvSeq != 31 {
		t.Errorf("conv seq after reopen = %d, want 31", a.Message.ConvSeq)
	}
	checkInvariants(t, s, []string{"m1", "c1"})
}

func TestOpenSQLiteRejectsPath(t *testing.T) {
	for _, p := range []string{"", ":memory:", "file:x.db", filepath.Join(t.TempDir(), "a?b.db")} {
		s, err := OpenSQLite(t.Context(), p, Options{})
		if !errors.Is(err, ErrInvalid) {
			if s != nil {
				_ = s.Close()
			}
			t.Errorf("OpenSQLite(%q) error = %v, want ErrInvalid", p, err)
		}
	}
}

func TestSQLiteMigrationsRunOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "im.db")
	for range 2 {
		s, err := OpenSQLite(t.Context(), path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRowContext(t.Context(), `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	migs, err := loadMigrations(migrationFiles, "migrations/sqlite")
	if err != nil {
		t.Fatal(err)
	}
	if n != len(migs) {
		t.Errorf("schema_migrations has %d rows, want %d", n, len(migs))
	}
	var mode string
	if err := db.QueryRowContext(t.Context(), `PRAGMA journal_mode`).Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if mode != "wal" {
		t.Errorf("journal_mode = %q, want wal", mode)
	}
}

// A file written before the inbox lost its foreign key (migration 3 rebuilds the table)
// keeps every inbox entry, and its sequences go on where they were.
func TestSQLiteUpgradeKeepsInbox(t *testing.T) {
	path := filepath.Join(t.TempDir(), "im.db")
	migs, err := loadMigrations(migrationFiles, "migrations/sqlite")
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", path+"?_pragma=foreign_keys(1)")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(t.Context(), `CREATE TABLE schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL DEFAULT 0) STRICT`); err != nil {
		t.Fatal(err)
	}
	for _, m := range migs[:2] {
		if _, err := db.ExecContext(t.Context(), m.sql); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(t.Context(), `INSERT INTO schema_migrations (version, name) VALUES (?, ?)`, m.version, m.name); err != nil {
			t.Fatal(err)
		}
	}
	for _, q := range []string{
		`INSERT INTO conversations VALUES ('p:c1|m1', 1)`,
		`INSERT INTO user_seqs VALUES ('m1', 1), ('c1', 1)`,
		`INSERT INTO messages VALUES ('0190f0c0-0000-7000-8000-000000000001', 'p:c1|m1', 1, 'm1', 'c1', 'k1', 1, 'text/plain', X'6869', 1700000000000)`,
		`INSERT INTO inbox VALUES ('m1', 1, '0190f0c0-0000-7000-8000-000000000001'), ('c1', 1, '0190f0c0-0000-7000-8000-000000000001')`,
	} {
		if _, err := db.ExecContext(t.Context(), q); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	s := openSQLiteAt(t, path, Options{})
	msgs, _, err := s.Sync(t.Context(), "c1", 0, 10)
	if err != nil || len(msgs) != 1 || string(msgs[0].Message.Body) != "hi" {
		t.Fatalf("sync after upgrade = %+v, %v; want the one message", msgs, err)
	}
	a, err := s.Append(t.Context(), chat("m1", "c1", "k2"))
	if err != nil || a.Message.ConvSeq != 2 || len(a.Inbox) != 2 || a.Inbox[0].Seq != 2 || a.Inbox[1].Seq != 2 {
		t.Fatalf("append after upgrade = %+v, %v; want conv seq 2, inbox seqs 2", a, err)
	}
	dup, err := s.Append(t.Context(), chat("m1", "c1", "k1"))
	if err != nil || !dup.Duplicate || dup.Message.ConvSeq != 1 || len(dup.Inbox) != 2 {
		t.Fatalf("resend of the old message = %+v, %v; want it as a duplicate with its inbox", dup, err)
	}
}
