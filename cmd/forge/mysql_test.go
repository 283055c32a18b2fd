package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/forge-orm/forge/forgetest"
	forgemysql "github.com/forge-orm/forge/mysql"
)

// mysqlDB is a new database on FORGE_TEST_MYSQL_DSN, reached through a
// mysql:// URL.
func mysqlDB(t testing.TB) *testDB {
	t.Helper()
	dsn := os.Getenv("FORGE_TEST_MYSQL_DSN")
	if dsn == "" {
		forgetest.RequireService(t, "MySQL or MariaDB (FORGE_TEST_MYSQL_DSN)")
	}
	ctx := context.Background()
	cfg, err := forgemysql.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := forgemysql.OpenConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("forgecli_%d_%d", time.Now().UnixNano()%1e12, pgSeq.Add(1))
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name, nil); err != nil {
		_ = admin.Close()
		t.Fatal(err)
	}
	user := cfg.User
	if cfg.Passwd != "" {
		user += ":" + cfg.Passwd
	}
	url := "mysql://" + user + "@" + cfg.Addr + "/" + name
	conn, err := forgemysql.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = conn.Close()
		_, _ = admin.Exec(context.Background(), "DROP DATABASE "+name, nil)
		_ = admin.Close()
	})
	return &testDB{kind: "mysql", url: url, conn: conn}
}

// TestMySQL runs push, diff, migrate and pull on a mysql:// URL.
func TestMySQL(t *testing.T) {
	t.Parallel()
	db := mysqlDB(t)
	a := newApp(t, map[string]string{"models/models.go": modelsV1})
	schemaDB := []string{"--schema", "./models", "--db", db.url}
	diff := func(want int) result {
		t.Helper()
		return a.must(want, append([]string{"diff", "--exit-code"}, schemaDB...)...)
	}
	r := a.must(exitOK, append([]string{"push"}, schemaDB...)...)
	contains(t, r, "create table users")
	contains(t, r, "one statement at a time")
	contains(t, diff(exitOK), "no drift")

	a.write("models/models.go", modelsV2)
	r = diff(exitDrift)
	contains(t, r, "add column users.nickname")
	contains(t, r, "NOT atomic")
	r = a.must(exitOK, append([]string{"push", "--dry-run"}, schemaDB...)...)
	contains(t, r, "ALTER TABLE `users` ADD COLUMN `nickname` LONGTEXT")
	contains(t, r, "-- note: MySQL and MariaDB commit each schema change at once")
	a.must(exitOK, append([]string{"push"}, schemaDB...)...)
	diff(exitOK)

	// Migration files: written with the note, applied, recorded.
	a.write("models/models.go", modelsV1)
	r = a.must(exitOK, append([]string{"migrate", "new", "drop_nick", "--dialect", "mysql"}, schemaDB...)...)
	contains(t, r, filepath.Join("migrations", "0001_drop_nick.up.sql"))
	up := a.read("migrations/0001_drop_nick.up.sql")
	if !strings.Contains(up, "ALTER TABLE `users` DROP COLUMN `nickname`") || !strings.Contains(up, "NOT atomic") {
		t.Fatalf("0001 up:\n%s", up)
	}
	contains(t, a.must(exitOK, "migrate", "apply", "--db", db.url), "applied 0001_drop_nick")
	diff(exitOK)
	contains(t, a.must(exitOK, "migrate", "status", "--db", db.url), "0001_drop_nick")

	// A file that fails half way: what ran stays (MySQL commits DDL), the
	// error says so, and once the cause is fixed the next apply finishes
	// the file without repeating its first statements.
	a.write("migrations/0002_half.up.sql", "CREATE TABLE \"half_a\" (\"id\" INTEGER PRIMARY KEY);\nINSERT INTO \"half_missing\" VALUES (1);\nCREATE TABLE \"half_b\" (\"id\" INTEGER PRIMARY KEY);\n")
	a.write("migrations/0002_half.down.sql", "DROP TABLE \"half_b\";\nDROP TABLE \"half_a\";\n")
	r = a.must(exitError, "migrate", "apply", "--db", db.url)
	contains(t, r, "failed at statement 2 of 3, the statements before it stay applied")
	if !db.hasTable(t, "half_a") || db.hasTable(t, "half_b") {
		t.Fatal("after the failure: want half_a and not half_b")
	}
	db.exec(t, `CREATE TABLE "half_missing" ("id" INTEGER PRIMARY KEY)`)
	contains(t, a.must(exitOK, "migrate", "apply", "--db", db.url), "applied 0002_half")
	if !db.hasTable(t, "half_b") || db.count(t, `SELECT COUNT(*) FROM "half_missing"`) != 1 {
		t.Fatal("the second apply did not finish the file once")
	}

	// pull names a column whose collation ignores case.
	db.exec(t, `CREATE TABLE "legacy" ("id" BIGINT AUTO_INCREMENT PRIMARY KEY, "email" VARCHAR(255) NOT NULL COLLATE utf8mb4_general_ci)`)
	r = a.must(exitOK, "pull", "--db", db.url, "--out", "pulled/models.go")
	contains(t, r, "legacy.email has the collation utf8mb4_general_ci, which compares text ignoring case")
	if strings.Contains(r.stderr, "users.email is") || strings.Contains(r.stderr, "users.nickname is") {
		t.Errorf("pull reports a type change for a column forge created:\n%s", r.stderr)
	}
	src := a.read("pulled/models.go")
	for _, want := range []string{"f.ID(&t.ID)", "f.Text(&t.Email)", "f.Text(&t.Name)"} {
		if !strings.Contains(src, want) {
			t.Errorf("the pulled code lacks %q:\n%s", want, src)
		}
	}
}
