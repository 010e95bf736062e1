package store

import (
	"testing"
	"testing/fstest"
)

func TestLoadMigrations(t *testing.T) {
	file := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }
	tests := []struct {
		name    string
		files   fstest.MapFS
		wantErr bool
		want    int
	}{
		{"ordered", fstest.MapFS{"m/0001_init.sql": file("a"), "m/0002_more.sql": file("b")}, false, 2},
		{"gap", fstest.MapFS{"m/0001_init.sql": file("a"), "m/0003_more.sql": file("b")}, true, 0},
		{"not first", fstest.MapFS{"m/0002_init.sql": file("a")}, true, 0},
		{"bad name", fstest.MapFS{"m/0001-init.sql": file("a")}, true, 0},
		{"stray file", fstest.MapFS{"m/0001_init.sql": file("a"), "m/README": file("b")}, true, 0},
		{"missing dir", fstest.MapFS{}, true, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			migs, err := loadMigrations(tc.files, "m")
			if (err != nil) != tc.wantErr || len(migs) != tc.want {
				t.Fatalf("loadMigrations = %d migrations, %v; want %d, error %v", len(migs), err, tc.want, tc.wantErr)
			}
		})
	}
}

func TestEmbeddedMigrationsLoad(t *testing.T) {
	for _, dir := range []string{"migrations/postgres", "migrations/sqlite"} {
		migs, err := loadMigrations(migrationFiles, dir)
		if err != nil || len(migs) == 0 {
			t.Errorf("%s: %d migrations, %v", dir, len(migs), err)
		}
	}
}

func TestMigrationsToApply(t *testing.T) {
	migs := []migration{{version: 1}, {version: 2}, {version: 3}}
	todo, err := migrationsToApply(migs, []int{1})
	if err != nil || len(todo) != 2 || todo[0].version != 2 || todo[1].version != 3 {
		t.Errorf("with 1 applied: %v, %v; want 2 and 3", todo, err)
	}
	if todo, err := migrationsToApply(migs, []int{1, 2, 3}); err != nil || len(todo) != 0 {
		t.Errorf("with all applied: %v, %v; want none", todo, err)
	}
	if _, err := migrationsToApply(migs, []int{1, 2, 3, 4}); err == nil {
		t.Error("a database migrated by a newer binary was accepted")
	}
}
