package campaign

import (
	"path/filepath"
	"testing"

	"github.com/bangbang-im/bangbang/internal/pgtest"
)

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

// pgSchemaURL is a PostgreSQL URL selecting a schema of the test's own.
func pgSchemaURL(t testing.TB) string { t.Helper(); return pgtest.SchemaURL(t, "test_campaign") }

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
