package main

import (
	"strings"
	"testing"
)

// models writes the models package: users and posts, plus extra fields
// on users (Go struct lines and declaration lines) and extra source.
func models(userFields, userDecls, extra string) string {
	return `package models

import (
	"time"

	"github.com/forge-orm/forge"
)

type User struct {
	ID        int64
	Email     string
	Name      string
	CreatedAt time.Time
` + userFields + `
}

type Post struct {
	ID       int64
	AuthorID int64
	Title    string
}

var Users = forge.Model("users", func(u *User, f *forge.Fields) {
	f.ID(&u.ID)
	f.Text(&u.Email).Unique()
	f.Text(&u.Name).Default("anonymous")
	f.Time(&u.CreatedAt).DefaultNow()
` + userDecls + `
})

var Posts = forge.Model("posts", func(p *Post, f *forge.Fields) {
	f.ID(&p.ID)
	f.Int(&p.AuthorID).Index().References(forge.Ref[User]()).OnDelete(forge.Cascade)
	f.Text(&p.Title)
})
` + extra + `
var Schema = forge.MustSchema(Users, Posts)
`
}

var (
	modelsV1 = models("", "", "")
	// V2 adds a nullable column.
	modelsV2 = models("\tNickname *string", "\tf.NullText(&u.Nickname)", "")
)

func TestPushDiff(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, db *testDB) {
		a := newApp(t, map[string]string{"models/models.go": modelsV1})
		push := func(want int, extra ...string) result {
			t.Helper()
			return a.must(want, append([]string{"push", "--schema", "./models", "--db", db.url}, extra...)...)
		}
		diff := func(want int) result {
			t.Helper()
			return a.must(want, "diff", "--schema", "./models", "--db", db.url, "--exit-code")
		}

		r := push(exitOK)
		contains(t, r, "create table users")
		contains(t, r, "create table posts")
		if !db.hasTable(t, "users") || !db.hasTable(t, "posts") {
			t.Fatal("push created no tables")
		}
		contains(t, push(exitOK), "no changes")
		contains(t, diff(exitOK), "no drift")
		// Without --exit-code, drift or not, diff exits 0.
		db.exec(t, `INSERT INTO "users" ("email", "name") VALUES (`+db.ph(1)+`, `+db.ph(2)+`)`, "ada@example.com", "Ada")

		// A new field: drift, exit 2, the step printed.
		a.write("models/models.go", modelsV2)
		r = diff(exitDrift)
		contains(t, r, "add column users.nickname")
		r = a.must(exitOK, "diff", "--schema", "./models", "--db", db.url, "--sql")
		contains(t, r, `ALTER TABLE "users" ADD COLUMN "nickname"`)

		// --dry-run prints the SQL and changes nothing.
		r = push(exitOK, "--dry-run")
		contains(t, r, `ALTER TABLE "users" ADD COLUMN "nickname"`)
		contains(t, r, "-- ")
		if db.inspect(t).Table("users").Column("nickname") != nil {
			t.Fatal("--dry-run changed the database")
		}
		diff(exitDrift)

		r = push(exitOK)
		contains(t, r, "add column users.nickname")
		diff(exitOK)
		db.exec(t, `UPDATE "users" SET "nickname" = 'ada'`)

		// Dropping the field loses data: refused (exit 4), the steps listed,
		// nothing changed; then accepted with --accept-data-loss.
		a.write("models/models.go", modelsV1)
		r = push(exitDestructive)
		contains(t, r, "refused")
		contains(t, r, "! ")
		if db.kind == "postgres" {
			contains(t, r, "drop column users.nickname")
		} else {
			contains(t, r, "rebuild table users (-nickname)")
		}
		contains(t, r, "--accept-data-loss")
		if db.inspect(t).Table("users").Column("nickname") == nil {
			t.Fatal("a refused push changed the database")
		}
		// A dry run shows it and still changes nothing.
		r = push(exitOK, "--dry-run")
		contains(t, r, "can lose data")
		diff(exitDrift)

		push(exitOK, "--accept-data-loss")
		diff(exitOK)
		if db.inspect(t).Table("users").Column("nickname") != nil {
			t.Fatal("the column was not dropped")
		}
		if n := db.count(t, `SELECT COUNT(*) FROM "users" WHERE "email" = 'ada@example.com' AND "name" = 'Ada'`); n != 1 {
			t.Fatalf("%d rows survived, want 1", n)
		}

		// A lossy type change (text → integer) names the column and both
		// types, in push and in diff, on every database.
		a.write("models/models.go", strings.Replace(strings.Replace(modelsV1, "\tTitle    string", "\tTitle    int64", 1), "f.Text(&p.Title)", "f.Int(&p.Title)", 1))
		want := "column title TEXT → INTEGER can lose data"
		if db.kind == "postgres" {
			want = "alter column posts.title (type text → bigint can lose data)"
		}
		contains(t, push(exitDestructive), want)
		contains(t, diff(exitDrift), want)
	})
}

func TestSchemaVariable(t *testing.T) {
	t.Parallel()
	a := newApp(t, map[string]string{
		"internal/db/db.go": strings.Replace(strings.Replace(modelsV1, "package models", "package db", 1), "var Schema =", "var AppSchema =", 1),
		"cmd/app/main.go":   "package main\n\nfunc main() {}\n",
		"broken/broken.go":  strings.Replace(modelsV1, `f.Text(&p.Title)`, `f.Text(&p.Title).DefaultNow()`, 1),
		"notschema/x.go":    "package notschema\n\nvar Schema = 42\n",
	})
	db := sqliteDB(t)
	r := a.must(exitOK, "push", "--schema", "./internal/db:AppSchema", "--db", db.url)
	contains(t, r, "create table users")
	if ents, _ := readDirNames(a.dir); strings.Contains(strings.Join(ents, " "), loaderPrefix) {
		t.Errorf("the loader's directory was left behind: %v", ents)
	}

	r = a.must(exitError, "diff", "--schema", "./internal/db", "--db", db.url)
	contains(t, r, "has no exported variable Schema")
	r = a.must(exitError, "diff", "--schema", "./notschema", "--db", db.url)
	contains(t, r, "must be a *forge.Schema")
	r = a.must(exitError, "diff", "--schema", "./cmd/app", "--db", db.url)
	contains(t, r, "package main")
	r = a.must(exitError, "diff", "--schema", "./broken", "--db", db.url)
	// MustSchema's panic: the schema's errors, no goroutine dump.
	contains(t, r, "declared wrong (forge.MustSchema panicked)")
	contains(t, r, "DefaultNow")
	if strings.Contains(r.stderr, "goroutine ") || strings.Contains(r.stderr, "exit status") {
		t.Errorf("a goroutine dump or the go command's status in the message:\n%s", r.stderr)
	}
	r = a.must(exitUsage, "diff", "--schema", "./nowhere", "--db", db.url)
	contains(t, r, "not a directory")
	r = a.must(exitUsage, "diff", "--schema", "./internal/db:appSchema", "--db", db.url)
	contains(t, r, "not exported")
}
