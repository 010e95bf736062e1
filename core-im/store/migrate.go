package store

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"strconv"
)

// migrationFiles holds one numbered .sql file per schema change and dialect:
// migrations/<dialect>/NNNN_name.sql. A file is never edited once released;
// a change is a new file.
//
//go:embed migrations
var migrationFiles embed.FS

type migration struct {
	version int
	name    string
	sql     string
}

var migrationName = regexp.MustCompile(`^(\d{4})_([a-z0-9_]+)\.sql$`)

// loadMigrations reads dir of fsys and checks the versions run 1, 2, 3...
// without gaps, so a missing file cannot be skipped silently.
func loadMigrations(fsys fs.FS, dir string) ([]migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var migs []migration
	for _, e := range entries {
		m := migrationName.FindStringSubmatch(e.Name())
		if e.IsDir() || m == nil {
			return nil, fmt.Errorf("migration file %q: name is not NNNN_name.sql", e.Name())
		}
		v, _ := strconv.Atoi(m[1])
		if v != len(migs)+1 {
			return nil, fmt.Errorf("migration file %q: expected version %d", e.Name(), len(migs)+1)
		}
		b, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("read migration %q: %w", e.Name(), err)
		}
		migs = append(migs, migration{version: v, name: m[2], sql: string(b)})
	}
	return migs, nil
}

// migrationsToApply returns the migrations newer than the applied versions,
// and refuses a database that a newer binary already migrated.
func migrationsToApply(migs []migration, applied []int) ([]migration, error) {
	done := make(map[int]bool, len(applied))
	for _, v := range applied {
		if v < 1 || v > len(migs) {
			return nil, fmt.Errorf("database has schema version %d, this binary knows up to %d", v, len(migs))
		}
		done[v] = true
	}
	var todo []migration
	for _, m := range migs {
		if !done[m.version] {
			todo = append(todo, m)
		}
	}
	return todo, nil
}
