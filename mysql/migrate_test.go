package mysql_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/forge-orm/forge/driver"
	"github.com/forge-orm/forge/migrate"
)

// killingConn cancels the run's context right after the journal records
// step 1: the migrator "dies" between two statements of the plan.
type killingConn struct {
	driver.Conn
	cancel context.CancelFunc
	seen   atomic.Int64
}

func (c *killingConn) Exec(ctx context.Context, q string, args []any) (driver.Result, error) {
	res, err := c.Conn.Exec(ctx, q, args)
	if err == nil && strings.HasPrefix(q, "INSERT INTO `"+migrate.JournalTable+"`") && len(args) == 3 && args[1] == int64(1) {
		c.seen.Add(1)
		c.cancel()
	}
	return res, err
}

// TestMigrateResumesAfterKill: a migrator killed in the middle of a plan
// (MySQL commits each statement) leaves the statements before applied and
// recorded; the next run of the same plan applies only the rest.
func TestMigrateResumesAfterKill(t *testing.T) {
	dsn(t)
	conn := openDB(t)
	stmts := []string{
		`CREATE TABLE "k_a" ("id" INTEGER PRIMARY KEY)`,
		`INSERT INTO "k_a" ("id") VALUES (1)`,
		`CREATE TABLE "k_b" ("id" INTEGER PRIMARY KEY)`,
		`INSERT INTO "k_b" ("id") VALUES (1)`,
	}
	ctx, cancel := context.WithCancel(context.Background())
	kc := &killingConn{Conn: conn, cancel: cancel}
	err := migrate.ApplyStatements(ctx, kc, stmts, migrate.StatementOptions{})
	if !errors.Is(err, context.Canceled) || kc.seen.Load() != 1 {
		t.Fatalf("the killed run: %v (killed %d times)", err, kc.seen.Load())
	}
	bg := context.Background()
	count := func(q string) int64 {
		t.Helper()
		rows, err := conn.Query(bg, q, nil)
		if err != nil {
			return -1
		}
		defer rows.Close()
		var n int64
		if !rows.Next() || rows.Scan(&n) != nil {
			return -1
		}
		return n
	}
	if n := count(`SELECT COUNT(*) FROM "k_a"`); n != 1 {
		t.Fatalf("k_a holds %d rows after the kill, want 1", n)
	}
	if n := count(`SELECT COUNT(*) FROM "k_b"`); n != -1 {
		t.Fatalf("k_b exists after the kill")
	}
	if n := count(`SELECT COUNT(*) FROM "` + migrate.JournalTable + `"`); n != 2 {
		t.Fatalf("the journal holds %d steps, want 2", n)
	}
	// The next run finishes: the INSERT into k_a is not repeated (a second
	// row 1 would be a duplicate key), k_b is created and filled.
	if err := migrate.ApplyStatements(bg, conn, stmts, migrate.StatementOptions{}); err != nil {
		t.Fatalf("the second run: %v", err)
	}
	if a, b, j := count(`SELECT COUNT(*) FROM "k_a"`), count(`SELECT COUNT(*) FROM "k_b"`), count(`SELECT COUNT(*) FROM "`+migrate.JournalTable+`"`); a != 1 || b != 1 || j != 0 {
		t.Fatalf("after the second run: k_a %d, k_b %d rows, journal %d steps; want 1, 1, 0", a, b, j)
	}
}
