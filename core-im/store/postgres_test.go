package store

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bangbang-im/bangbang/internal/pgtest"
)

// pgSchemaURL is a PostgreSQL URL selecting a schema of the test's own (dropped when it
// ends), so tests of packages running in parallel never see each other's tables.
func pgSchemaURL(t testing.TB) string {
	t.Helper()
	return pgtest.SchemaURL(t, "test_store")
}

func openPostgresAt(t testing.TB, url string, opt Options) Store {
	t.Helper()
	s, err := OpenPostgres(t.Context(), url, opt)
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return s
}

func postgresBackend() backend {
	return backend{
		name: "postgres",
		open: func(t testing.TB, opt Options) Store {
			t.Helper()
			return openPostgresAt(t, pgSchemaURL(t), opt)
		},
		holdWrites: func(t testing.TB, s Store) func() {
			t.Helper()
			cfg := s.(*pgStore).pool.Config().ConnConfig
			conn, err := pgx.ConnectConfig(t.Context(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			tx, err := conn.Begin(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			// EXCLUSIVE lets readers through but blocks the committer's upsert.
			if _, err := tx.Exec(t.Context(), "LOCK TABLE conversations IN EXCLUSIVE MODE"); err != nil {
				t.Fatal(err)
			}
			var once sync.Once
			release := func() {
				once.Do(func() {
					ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
					defer cancel()
					if err := tx.Rollback(ctx); err != nil {
						t.Errorf("release lock: %v", err)
					}
					if err := conn.Close(ctx); err != nil {
						t.Errorf("release lock: %v", err)
					}
				})
			}
			t.Cleanup(release)
			return release
		},
		plantConflict: func(t testing.TB, s Store, convID string) {
			t.Helper()
			_, err := s.(*pgStore).pool.Exec(t.Context(), `
INSERT INTO messages (id, conv_id, conv_seq, sender, recipient, client_msg_id, kind, content_type, body, sent_at)
VALUES (gen_random_uuid(), $1, 1, 'x', 'x', '', 1, '', '', now())`, convID)
			if err != nil {
				t.Fatal(err)
			}
		},
		plantMarks: func(t testing.TB, s Store, user, convID string, seq int64) {
			t.Helper()
			pool := s.(*pgStore).pool
			if _, err := pool.Exec(t.Context(), `INSERT INTO delivery_acks (user_id, device_id, seq) VALUES ($1, 'phone', $2)`, user, seq); err != nil {
				t.Fatal(err)
			}
			if _, err := pool.Exec(t.Context(), `INSERT INTO read_marks (user_id, conv_id, seq) VALUES ($1, $2, $3)`, user, convID, seq); err != nil {
				t.Fatal(err)
			}
		},
	}
}

func TestPostgresContract(t *testing.T) {
	runContract(t, postgresBackend())
}

// Two stores on one database stand for two logic processes: appending to the
// same conversations at once, they still produce gap-free sequences.
func TestPostgresTwoStoresShareSequences(t *testing.T) {
	u := pgSchemaURL(t)
	stores := []Store{openPostgresAt(t, u, Options{}), openPostgresAt(t, u, Options{})}
	users := []string{"m1", "m2", "c1", "c2"}
	const perWorker = 120
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		s := stores[w%2]
		wg.Go(func() {
			for i := range perWorker {
				from, to := users[(w+i)%4], users[(w+i+1+i%2)%4]
				m := chat(from, to, "")
				if i%5 == 0 {
					m = system(from)
				}
				if _, err := s.Append(t.Context(), m); err != nil {
					errs <- fmt.Errorf("worker %d append %d: %w", w, i, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	// Either store reads what both wrote.
	for _, s := range stores {
		if got := len(checkInvariants(t, s, users)); got != 8*perWorker {
			t.Fatalf("%d distinct messages, want %d", got, 8*perWorker)
		}
	}
}

// Two processes retrying the same client message through different stores
// still store it once: the unique index backs the in-process dedup.
func TestPostgresTwoStoresDedup(t *testing.T) {
	u := pgSchemaURL(t)
	stores := []Store{openPostgresAt(t, u, Options{}), openPostgresAt(t, u, Options{})}
	for round := range 20 {
		cid := fmt.Sprintf("retry-%d", round)
		var wg sync.WaitGroup
		res := make([]Appended, 6)
		errs := make([]error, 6)
		for i := range res {
			wg.Go(func() { res[i], errs[i] = stores[i%2].Append(t.Context(), chat("m1", "c1", cid)) })
		}
		wg.Wait()
		fresh := 0
		for i := range res {
			if errs[i] != nil {
				t.Fatalf("round %d append %d: %v", round, i, errs[i])
			}
			if res[i].Message.ID != res[0].Message.ID {
				t.Fatalf("round %d: ids %s and %s for one client message", round, res[0].Message.ID, res[i].Message.ID)
			}
			if !res[i].Duplicate {
				fresh++
			}
		}
		if fresh != 1 {
			t.Fatalf("round %d: %d appends reported a new message, want 1", round, fresh)
		}
	}
	if got := len(checkInvariants(t, stores[0], []string{"m1", "c1"})); got != 20 {
		t.Fatalf("%d messages stored, want 20", got)
	}
}

func TestPostgresMigrationsRunOnce(t *testing.T) {
	u := pgSchemaURL(t)
	// Concurrent opens take turns on the advisory lock.
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i := range errs {
		wg.Go(func() {
			s, err := OpenPostgres(t.Context(), u, Options{})
			if err == nil {
				err = s.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatalf("open: %v", err)
		}
	}
	conn, err := pgx.Connect(t.Context(), u)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(t.Context(), `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	migs, err := loadMigrations(migrationFiles, "migrations/postgres")
	if err != nil {
		t.Fatal(err)
	}
	if n != len(migs) {
		t.Errorf("schema_migrations has %d rows, want %d", n, len(migs))
	}
}
