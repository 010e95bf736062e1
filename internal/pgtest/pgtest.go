// Package pgtest gives a test a PostgreSQL schema of its own, so the tests of packages
// running in parallel never see each other's tables. It is for tests only.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultURL is the server the tests use unless BANGBANG_TEST_DATABASE_URL names another:
// the one .ci/run makes sure is up.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// SchemaURL creates a schema named prefix_<random> (dropped when the test ends) and
// returns a URL whose search_path selects it. An unreachable server fails the test,
// unless BANGBANG_TEST_SKIP_PG=1, which skips it.
func SchemaURL(t testing.TB, prefix string) string {
	t.Helper()
	base := os.Getenv("BANGBANG_TEST_DATABASE_URL")
	if base == "" {
		base = DefaultURL
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("BANGBANG_TEST_DATABASE_URL must be a URL: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		if os.Getenv("BANGBANG_TEST_SKIP_PG") == "1" {
			t.Skipf("PostgreSQL unreachable, skipped (BANGBANG_TEST_SKIP_PG=1): %v", err)
		}
		t.Fatalf("PostgreSQL unreachable at %s (set BANGBANG_TEST_SKIP_PG=1 to skip): %v", base, err)
	}
	defer conn.Close(ctx)
	var b [8]byte
	_, _ = rand.Read(b[:])
	schema := prefix + "_" + hex.EncodeToString(b[:])
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
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
