package main

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/forge-orm/forge/dialect/sqlsplit"
)

const tagsModel = `
type Tag struct {
	ID      int64
	OwnerID *int64
	Label   string
}

var Tags = forge.Model("tags", func(t *Tag, f *forge.Fields) {
	f.ID(&t.ID)
	f.NullInt(&t.OwnerID).References(forge.Ref[User]()).OnDelete(forge.SetNull)
	f.Text(&t.Label).Unique()
})
`

// modelsV3 adds a column with a default and a table.
var modelsV3 = strings.Replace(models("\tNickname *string", "\tf.NullText(&u.Nickname).Default(\"none\")", tagsModel),
	"forge.MustSchema(Users, Posts)", "forge.MustSchema(Users, Posts, Tags)", 1)

func TestMigrateRoundTrip(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, db *testDB) {
		a := newApp(t, map[string]string{"models/models.go": modelsV1})
		schemaDB := []string{"--schema", "./models", "--db", db.url}
		diff := func(want int) result {
			t.Helper()
			return a.must(want, append([]string{"diff", "--exit-code"}, schemaDB...)...)
		}
		status := func() string {
			t.Helper()
			return a.must(exitOK, "migrate", "status", "--db", db.url).stdout
		}

		r := a.must(exitOK, append([]string{"migrate", "new", "init"}, schemaDB...)...)
		contains(t, r, filepath.Join("migrations", "0001_init.up.sql"))
		up := a.read("migrations/0001_init.up.sql")
		down := a.read("migrations/0001_init.down.sql")
		if !strings.Contains(up, `CREATE TABLE "users"`) || !strings.Contains(down, `DROP TABLE "users"`) {
			t.Fatalf("0001:\n%s\n%s", up, down)
		}
		if s := status(); !regexp.MustCompile(`pending\s+-\s+0001_init`).MatchString(s) {
			t.Fatalf("status:\n%s", s)
		}
		// Comparing with a database that lacks 0001 would repeat it.
		r = a.must(exitError, append([]string{"migrate", "new", "again"}, schemaDB...)...)
		contains(t, r, "0001_init.up.sql")
		contains(t, r, "--ignore-pending")

		contains(t, a.must(exitOK, "migrate", "apply", "--db", db.url), "applied 0001_init")
		diff(exitOK)
		if s := status(); !regexp.MustCompile(`applied\s+\d{4}-\d\d-\d\d \S+ UTC\s+0001_init`).MatchString(s) {
			t.Fatalf("status:\n%s", s)
		}
		sum := sha256.Sum256([]byte(up))
		if n := db.count(t, `SELECT COUNT(*) FROM "forge_migrations" WHERE "name" = '0001_init' AND "checksum" = `+db.ph(1), hex.EncodeToString(sum[:])); n != 1 {
			t.Fatalf("forge_migrations has %d records of 0001_init with the file's sha256", n)
		}
		contains(t, a.must(exitOK, append([]string{"migrate", "new", "nothing"}, schemaDB...)...), "no changes")
		if _, err := os.Stat(a.path("migrations/0002_nothing.up.sql")); err == nil {
			t.Fatal("a migration was written for no changes")
		}
		contains(t, a.must(exitOK, "migrate", "apply", "--db", db.url), "nothing to apply")

		db.exec(t, `INSERT INTO "users" ("email", "name") VALUES ('ada@example.com', 'Ada')`)
		a.write("models/models.go", modelsV3)
		diff(exitDrift)
		r = a.must(exitOK, append([]string{"migrate", "new", "Add nickname & tags"}, schemaDB...)...)
		contains(t, r, "0002_add_nickname_tags.up.sql")
		up2 := a.read("migrations/0002_add_nickname_tags.up.sql")
		down2 := a.read("migrations/0002_add_nickname_tags.down.sql")
		if !strings.Contains(up2, `CREATE TABLE "tags"`) || !strings.Contains(down2, `DROP TABLE "tags"`) {
			t.Fatalf("0002:\n%s\n%s", up2, down2)
		}
		if db.kind == "sqlite" && !strings.Contains(down2, directiveFKOff) {
			t.Fatalf("a SQLite down migration that drops tables lacks %s:\n%s", directiveFKOff, down2)
		}
		contains(t, a.must(exitOK, "migrate", "apply", "--db", db.url), "applied 0002_add_nickname_tags")
		diff(exitOK)

		// Down reverts 0002: the database is back at V1, data kept.
		contains(t, a.must(exitOK, "migrate", "down", "--db", db.url), "reverted 0002_add_nickname_tags")
		a.write("models/models.go", modelsV1)
		diff(exitOK)
		if n := db.count(t, `SELECT COUNT(*) FROM "users" WHERE "email" = 'ada@example.com'`); n != 1 {
			t.Fatalf("%d users after down, want 1", n)
		}
		if s := status(); !strings.Contains(s, "pending") || !strings.Contains(s, "0002_add_nickname_tags") {
			t.Fatalf("status after down:\n%s", s)
		}
		contains(t, a.must(exitOK, "migrate", "apply", "--db", db.url), "applied 0002_add_nickname_tags")
		a.write("models/models.go", modelsV3)
		diff(exitOK)

		// An applied file edited afterwards is refused, by name.
		a.write("migrations/0001_init.up.sql", up+"\n-- an edit\n")
		r = a.must(exitError, "migrate", "apply", "--db", db.url)
		contains(t, r, "0001_init.up.sql")
		contains(t, r, "edited after it was applied")
		if s := status(); !regexp.MustCompile(`modified\s+.*0001_init`).MatchString(s) {
			t.Fatalf("status:\n%s", s)
		}
		a.write("migrations/0001_init.up.sql", up)
		contains(t, a.must(exitOK, "migrate", "apply", "--db", db.url), "nothing to apply")
		// Two down: back to an empty database.
		a.must(exitOK, "migrate", "down", "--db", db.url)
		a.must(exitOK, "migrate", "down", "--db", db.url)
		if db.hasTable(t, "users") {
			t.Fatal("users survived reverting 0001")
		}
		contains(t, a.must(exitOK, "migrate", "down", "--db", db.url), "nothing to revert")
	})
}

func TestMigrationFiles(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, db *testDB) {
		extra := `DO $body$ BEGIN INSERT INTO keep (id, note) VALUES (2, 'in a $$ body; with semicolons'); END $body$;`
		if db.kind == "sqlite" {
			extra = `CREATE TRIGGER keep_t AFTER INSERT ON keep WHEN NEW.id = 3 BEGIN
  INSERT INTO keep (id, note) VALUES (4, CASE WHEN NEW.note = 'fires' THEN 'x;y' ELSE 'z' END);
END;
INSERT INTO keep (id, note) VALUES (3, 'fires');`
		}
		a := newApp(t, map[string]string{
			"migrations/0001_keep.up.sql": `-- a comment; with a semicolon
CREATE TABLE keep (id INTEGER PRIMARY KEY, note TEXT NOT NULL);
/* a block; comment /* nested; */ */
INSERT INTO keep (id, note) VALUES (1, 'a;b -- not a comment ''quoted''');
` + extra + "\n",
			"migrations/0001_keep.down.sql": "DROP TABLE keep;\n",
			// The third statement fails.
			"migrations/0002_bad.up.sql": `CREATE TABLE fail_a (id INTEGER PRIMARY KEY);
CREATE TABLE fail_b (id INTEGER PRIMARY KEY);
INSERT INTO no_such_table VALUES (1);
CREATE TABLE fail_c (id INTEGER PRIMARY KEY);
`,
			"tx/0001_tx.up.sql": "BEGIN;\nCREATE TABLE t (id INTEGER PRIMARY KEY);\nCOMMIT;\n",
			"d1/0001_x.sql":     "CREATE TABLE t (id INTEGER PRIMARY KEY);\n",
		})
		r := a.must(exitError, "migrate", "apply", "--db", db.url)
		contains(t, r, "applied 0001_keep")
		contains(t, r, "0002_bad.up.sql failed at statement 3 of 4")
		contains(t, r, "INSERT INTO no_such_table VALUES (1)")
		contains(t, r, "no_such_table")
		contains(t, r, "nothing of it was applied")
		for _, name := range []string{"fail_a", "fail_b", "fail_c"} {
			if db.hasTable(t, name) {
				t.Errorf("%s exists after its migration failed", name)
			}
		}
		if n := db.count(t, `SELECT COUNT(*) FROM "forge_migrations"`); n != 1 {
			t.Errorf("%d records, want 1 (0001_keep)", n)
		}
		if n := db.count(t, `SELECT COUNT(*) FROM keep WHERE id = 1 AND note = 'a;b -- not a comment ''quoted'''`); n != 1 {
			t.Errorf("the quoted text was split")
		}
		if db.kind == "sqlite" {
			if n := db.count(t, `SELECT COUNT(*) FROM keep WHERE id = 4 AND note = 'x;y'`); n != 1 {
				t.Errorf("the trigger was split")
			}
		} else if n := db.count(t, `SELECT COUNT(*) FROM keep WHERE id = 2 AND note = 'in a $$ body; with semicolons'`); n != 1 {
			t.Errorf("the $$ body was split")
		}
		r = a.must(exitOK, "migrate", "status", "--db", db.url)
		if !regexp.MustCompile(`pending\s+-\s+0002_bad`).MatchString(r.stdout) {
			t.Fatalf("status:\n%s", r)
		}

		r = a.must(exitError, "migrate", "apply", "--db", db.url, "--dir", "tx")
		contains(t, r, "remove BEGIN/COMMIT")
		r = a.must(exitError, "migrate", "apply", "--db", db.url, "--dir", "d1")
		contains(t, r, "wrangler")
	})
}

func TestD1Layout(t *testing.T) {
	t.Parallel()
	dev := sqliteDB(t)
	a := newApp(t, map[string]string{"models/models.go": modelsV1})
	r := a.must(exitOK, "migrate", "new", "init", "--dialect", "d1", "--schema", "./models", "--db", dev.url)
	contains(t, r, filepath.Join("migrations", "0001_init.sql"))
	names, _ := readDirNames(a.path("migrations"))
	if strings.Join(names, " ") != "0001_init.sql down" {
		t.Fatalf("migrations/ holds %v, want 0001_init.sql and down/", names)
	}
	if _, err := os.Stat(a.path("migrations/down/0001_init.sql")); err != nil {
		t.Fatal(err)
	}
	txWord := regexp.MustCompile(`(?i)\b(BEGIN|COMMIT)\b`)
	apply := func(name string) {
		t.Helper()
		text := a.read(name)
		if txWord.MatchString(text) {
			t.Fatalf("%s has BEGIN/COMMIT:\n%s", name, text)
		}
		stmts, err := sqlsplit.Split(text, sqlsplit.Portable)
		if err != nil {
			t.Fatal(err)
		}
		// As wrangler would: the statements, then the d1_migrations row.
		for _, s := range stmts {
			dev.exec(t, s)
		}
		dev.exec(t, `CREATE TABLE IF NOT EXISTS d1_migrations (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE, applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP NOT NULL)`)
		dev.exec(t, `INSERT INTO d1_migrations (name) VALUES (?)`, filepath.Base(name))
	}
	apply("migrations/0001_init.sql")
	a.must(exitOK, "diff", "--exit-code", "--schema", "./models", "--db", dev.url)

	// A change SQLite's ALTER TABLE cannot make: the table is rebuilt, with
	// D1's way to defer foreign key checks instead of turning them off.
	a.write("models/models.go", strings.Replace(modelsV1, `f.Text(&p.Title)`, `f.Text(&p.Title).Default("untitled")`, 1))
	a.must(exitOK, "migrate", "new", "title default", "--dialect", "d1", "--schema", "./models", "--db", dev.url)
	up := a.read("migrations/0002_title_default.sql")
	if !strings.Contains(up, "PRAGMA defer_foreign_keys = ON;") || !strings.Contains(up, "rebuild table posts") {
		t.Fatalf("0002:\n%s", up)
	}
	apply("migrations/0002_title_default.sql")
	a.must(exitOK, "diff", "--exit-code", "--schema", "./models", "--db", dev.url)
	down := a.read("migrations/down/0002_title_default.sql")
	if txWord.MatchString(down) || !strings.Contains(down, `"forge_new_posts"`) {
		t.Fatalf("down/0002:\n%s", down)
	}
	// A d1 directory is not forge migrate apply's.
	contains(t, a.must(exitError, "migrate", "apply", "--db", dev.url), "wrangler")
	// Nothing recorded in d1_migrations for a file: refused.
	a.write("models/models.go", modelsV2)
	dev.exec(t, `DELETE FROM d1_migrations WHERE name = '0002_title_default.sql'`)
	r = a.must(exitError, "migrate", "new", "nick", "--dialect", "d1", "--schema", "./models", "--db", dev.url)
	contains(t, r, "0002_title_default.sql")
}
