package main

import (
	"bytes"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// together starts n forge processes with the same arguments at once (in a
// tight loop, after every command is prepared) and waits for them all.
func together(t *testing.T, a *app, n int, args ...string) []result {
	t.Helper()
	cmds := make([]*exec.Cmd, n)
	outs := make([]*bytes.Buffer, n)
	errs := make([]*bytes.Buffer, n)
	for i := range cmds {
		cmds[i] = a.command(args...)
		outs[i], errs[i] = &bytes.Buffer{}, &bytes.Buffer{}
		cmds[i].Stdout, cmds[i].Stderr = outs[i], errs[i]
	}
	for _, c := range cmds {
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
	}
	res := make([]result, n)
	for i, c := range cmds {
		err := c.Wait()
		res[i] = result{stdout: outs[i].String(), stderr: errs[i].String(), args: args}
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			res[i].code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
	}
	return res
}

// zeroOrLocked checks that every process exited 0, or 3 with the lock
// message.
func zeroOrLocked(t *testing.T, res []result) (locked int) {
	t.Helper()
	for _, r := range res {
		switch r.code {
		case exitOK:
		case exitLocked:
			locked++
			if !strings.Contains(r.stderr, "another migrator holds the lock") {
				t.Errorf("exit 3 without the lock message: %s", r)
			}
		default:
			t.Errorf("a racing process failed: %s", r)
		}
	}
	return locked
}

func TestRacingPush(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, db *testDB) {
		a := newApp(t, map[string]string{"models/models.go": modelsV3})
		// Warm the go command's cache for the schema loader.
		a.must(exitDrift, "diff", "--exit-code", "--schema", "./models", "--db", db.url)
		res := together(t, a, 8, "push", "--schema", "./models", "--db", db.url, "--lock-wait", "90s")
		zeroOrLocked(t, res)
		applied := 0
		for _, r := range res {
			if strings.Contains(r.stdout, "applied ") {
				applied++
			} else if r.code == exitOK && !strings.Contains(r.stdout, "no changes") {
				t.Errorf("neither applied nor no changes: %s", r)
			}
		}
		if applied != 1 {
			t.Errorf("%d pushers applied changes, want exactly 1", applied)
		}
		a.must(exitOK, "diff", "--exit-code", "--schema", "./models", "--db", db.url)
	})
}

// racingMigrations insert rows, so that a migration applied twice shows.
var racingMigrations = map[string]string{
	"migrations/0001_counter.up.sql":   "CREATE TABLE counter (note TEXT NOT NULL);\n",
	"migrations/0001_counter.down.sql": "DROP TABLE counter;\n",
	"migrations/0002_one.up.sql":       "INSERT INTO counter (note) VALUES ('one');\n",
	"migrations/0002_one.down.sql":     "DELETE FROM counter WHERE note = 'one';\n",
	"migrations/0003_two.up.sql":       "CREATE INDEX counter_note ON counter (note);\nINSERT INTO counter (note) VALUES ('two');\n",
	"migrations/0003_two.down.sql":     "DROP INDEX counter_note;\nDELETE FROM counter WHERE note = 'two';\n",
}

func TestRacingMigrateApply(t *testing.T) {
	t.Parallel()
	t.Run("wait", func(t *testing.T) {
		t.Parallel()
		eachDB(t, func(t *testing.T, db *testDB) {
			a := newApp(t, racingMigrations)
			res := together(t, a, 8, "migrate", "apply", "--db", db.url, "--lock-wait", "90s")
			zeroOrLocked(t, res)
			checkAppliedOnce(t, db, res)
		})
	})
	// Without waiting, the processes that find the lock held exit 3; each
	// migration is still applied exactly once.
	t.Run("nowait", func(t *testing.T) {
		t.Parallel()
		eachDB(t, func(t *testing.T, db *testDB) {
			a := newApp(t, racingMigrations)
			res := together(t, a, 8, "migrate", "apply", "--db", db.url, "--lock-wait", "0")
			if zeroOrLocked(t, res) == len(res) {
				t.Fatal("every process found the lock held")
			}
			r := a.must(exitOK, "migrate", "apply", "--db", db.url)
			checkAppliedOnce(t, db, append(res, r))
		})
	})
}

func checkAppliedOnce(t *testing.T, db *testDB, res []result) {
	t.Helper()
	for _, name := range []string{"0001_counter", "0002_one", "0003_two"} {
		n := 0
		for _, r := range res {
			n += strings.Count(r.stdout, "applied "+name+" ")
		}
		if n != 1 {
			t.Errorf("%s was applied by %d processes, want 1", name, n)
		}
		if c := db.count(t, `SELECT COUNT(*) FROM "forge_migrations" WHERE "name" = `+db.ph(1), name); c != 1 {
			t.Errorf("%d records of %s, want 1", c, name)
		}
	}
	if n := db.count(t, `SELECT COUNT(*) FROM counter`); n != 2 {
		t.Errorf("%d rows in counter, want 2 (one per inserting migration)", n)
	}
}

func TestKilledMigrator(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, db *testDB) {
		slow := "SELECT pg_sleep(2);"
		if db.kind == "sqlite" {
			slow = sqliteSlowStatement(t, db, 2*time.Second)
		}
		fast := "CREATE TABLE before_sleep (id INTEGER);\nCREATE TABLE after_sleep (id INTEGER);\n"
		a := newApp(t, map[string]string{
			"migrations/0001_slow.up.sql":   "CREATE TABLE before_sleep (id INTEGER);\n" + slow + "\nCREATE TABLE after_sleep (id INTEGER);\n",
			"migrations/0001_slow.down.sql": "DROP TABLE after_sleep;\nDROP TABLE before_sleep;\n",
		})
		lockRows := func() int64 {
			if !db.hasTable(t, "forge_migrate_lock") {
				return 0
			}
			return db.count(t, `SELECT COUNT(*) FROM "forge_migrate_lock" WHERE "holder" LIKE 'forge@%'`)
		}

		// SIGKILL in the middle of a migration.
		cmd := a.command("migrate", "apply", "--db", db.url, "--lock-ttl", "1s")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(60 * time.Second)
		for lockRows() == 0 {
			if time.Now().After(deadline) {
				_ = cmd.Process.Kill()
				t.Fatalf("the migrator never took the lock:\n%s", out.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
		time.Sleep(300 * time.Millisecond)         // into the slow statement
		if err := cmd.Process.Kill(); err != nil { // SIGKILL
			t.Fatal(err)
		}
		_ = cmd.Wait()
		if strings.Contains(out.String(), "applied 0001_slow") {
			t.Fatalf("the migration finished before the kill; make it slower:\n%s", out.String())
		}
		if lockRows() != 1 {
			t.Fatal("the killed migrator left no lock row")
		}
		if db.hasTable(t, "before_sleep") || db.hasTable(t, "after_sleep") {
			t.Fatal("a killed migration left half its changes")
		}
		// The next migrator takes the expired lock and applies the file
		// (without the slow statement: it was not applied, so it may change).
		a.write("migrations/0001_slow.up.sql", fast)
		start := time.Now()
		r := a.must(exitOK, "migrate", "apply", "--db", db.url, "--lock-wait", "60s")
		contains(t, r, "applied 0001_slow")
		if !db.hasTable(t, "before_sleep") || !db.hasTable(t, "after_sleep") {
			t.Fatal("the migration was not applied after the kill")
		}
		t.Logf("%s: applied %s after the kill", db.kind, time.Since(start).Round(time.Millisecond))

		// A lock row left by a dead migrator, still fresh: refused at once
		// with --lock-wait 0, taken once it expires.
		db.exec(t, `INSERT INTO "forge_migrate_lock" ("id", "holder", "expires_at") VALUES (1, 'dead', `+db.ph(1)+`)`,
			time.Now().Add(1500*time.Millisecond).UnixMilli())
		r = a.must(exitLocked, "migrate", "down", "--db", db.url, "--lock-wait", "0")
		contains(t, r, "another migrator holds the lock: dead, its lease running until ")
		if !db.hasTable(t, "after_sleep") {
			t.Fatal("a refused migrator changed the database")
		}
		r = a.must(exitOK, "migrate", "down", "--db", db.url, "--lock-wait", "30s")
		contains(t, r, "reverted 0001_slow")
	})
}

// sqliteSlowStatement returns a statement that keeps SQLite busy for about
// d on this machine: a recursive count, calibrated.
func sqliteSlowStatement(t *testing.T, db *testDB, d time.Duration) string {
	t.Helper()
	q := func(n int64) string {
		return fmt.Sprintf("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < %d) SELECT count(*) FROM c", n)
	}
	const probe = 200000
	start := time.Now()
	db.count(t, q(probe))
	took := time.Since(start)
	n := int64(float64(probe) * float64(d) / float64(max(took, time.Millisecond)))
	return q(min(max(n, probe), 50_000_000)) + ";"
}
