package campaign

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

const defaultTestDatabaseURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// backend opens fresh, empty stores of one dialect.
type backend struct {
	name string
	open func(t testing.TB) *Store
}

// backends are both dialects: every store test runs on each.
func backends() []backend {
	return []backend{{"sqlite", openSQLiteT}, {"postgres", openPostgresT}}
}

func openSQLiteT(t testing.TB) *Store {
	t.Helper()
	return openSQLiteAt(t, filepath.Join(t.TempDir(), "campaigns.db"))
}

func openSQLiteAt(t testing.TB, path string) *Store {
	t.Helper()
	s, err := OpenSQLite(t.Context(), path, Options{})
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func openPostgresT(t testing.TB) *Store {
	t.Helper()
	return openPostgresAt(t, pgSchemaURL(t))
}

func openPostgresAt(t testing.TB, u string) *Store {
	t.Helper()
	s, err := OpenPostgres(t.Context(), u, Options{})
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// pgSchemaURL creates a schema of its own for the test (dropped when it ends) and returns a
// URL whose search_path selects it. An unreachable server fails the test unless
// BANGBANG_TEST_SKIP_PG=1.
func pgSchemaURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv("BANGBANG_TEST_DATABASE_URL")
	if base == "" {
		base = defaultTestDatabaseURL
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		if os.Getenv("BANGBANG_TEST_SKIP_PG") == "1" {
			t.Skipf("PostgreSQL unreachable, skipped (BANGBANG_TEST_SKIP_PG=1): %v", err)
		}
		t.Fatalf("PostgreSQL unreachable at %s (set BANGBANG_TEST_SKIP_PG=1 to skip): %v", base, err)
	}
	defer conn.Close(ctx)
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	schema := "test_campaign_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("BANGBANG_TEST_DATABASE_URL must be a URL: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

var staff = Actor{KeyID: "key_test", Name: "tester", Role: RoleAdmin}

func mustMerchant(t testing.TB, s *Store, m Merchant) Merchant {
	t.Helper()
	got, err := s.CreateMerchant(t.Context(), staff, m)
	if err != nil {
		t.Fatalf("create merchant %s: %v", m.ID, err)
	}
	return got
}

func simpleSpec(ids ...string) Spec {
	return Spec{Name: "spring", Audience: Audience{MerchantIDs: ids}, Rate: 1000,
		Message: Message{Title: "Hello {{.Name}}", Body: "Refresh your listings in {{.City}}"}}
}
