package mysql_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"testing"

	"github.com/forge-orm/forge/driver"
	"github.com/forge-orm/forge/mysql"
)

// sessionStatus reads one of the session's status counters (statements
// without arguments bypass the cache, so reading does not count).
func sessionStatus(t *testing.T, c *sql.Conn, name string) int64 {
	t.Helper()
	var n string
	var v int64
	if err := c.QueryRowContext(context.Background(), "SHOW SESSION STATUS LIKE '"+name+"'").Scan(&n, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// TestStatementCacheReuses: the same statement run again on a connection
// is prepared once with the cache, once per call without it; the results
// are the same.
func TestStatementCacheReuses(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		size         int
		wantPrepares int64
	}{{mysql.DefaultStatementCacheSize, 1}, {0, 10}} {
		t.Run(fmt.Sprint("size ", tc.size), func(t *testing.T) {
			db := openDBWith(t, mysql.StatementCache(tc.size)).DB()
			c, err := db.Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			before := sessionStatus(t, c, "Com_stmt_prepare")
			for i := range 10 {
				var got int64
				if err := c.QueryRowContext(ctx, "SELECT ? + 1", i).Scan(&got); err != nil {
					t.Fatal(err)
				}
				if got != int64(i)+1 {
					t.Fatalf("SELECT %d + 1 = %d", i, got)
				}
			}
			if n := sessionStatus(t, c, "Com_stmt_prepare") - before; n != tc.wantPrepares {
				t.Errorf("%d statements prepared, want %d", n, tc.wantPrepares)
			}
		})
	}
}

// TestStatementCacheEvicts: with room for two statements, a third evicts
// the least recently used, which is closed on the server, and every
// statement keeps giving the right answer.
func TestStatementCacheEvicts(t *testing.T) {
	ctx := context.Background()
	db := openDBWith(t, mysql.StatementCache(2)).DB()
	c, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	prep0, close0 := sessionStatus(t, c, "Com_stmt_prepare"), sessionStatus(t, c, "Com_stmt_close")
	queries := []string{"SELECT ? + 1", "SELECT ? + 2", "SELECT ? + 3"}
	for round := range 3 {
		for k, q := range queries {
			var got int64
			if err := c.QueryRowContext(ctx, q, round).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if want := int64(round + k + 1); got != want {
				t.Fatalf("%s with %d = %d, want %d", q, round, got, want)
			}
		}
	}
	// Round-robin over three statements in a cache of two: every call
	// misses, prepares, and evicts (closes) the oldest.
	if n := sessionStatus(t, c, "Com_stmt_prepare") - prep0; n != 9 {
		t.Errorf("%d statements prepared, want 9", n)
	}
	if n := sessionStatus(t, c, "Com_stmt_close") - close0; n != 7 {
		t.Errorf("%d statements closed, want 7", n)
	}
}

// TestStatementCacheRowsAndErrors: a Rows closed early leaves its
// statement reusable; a failed call leaves the cache working; schema changes between calls are seen; arguments keep
// go-sql-driver's conversions (a uint64 above the int64 range).
func TestStatementCacheRowsAndErrors(t *testing.T) {
	ctx := context.Background()
	conn := openDBWith(t)
	db := conn.DB()
	db.SetMaxOpenConns(1)
	for _, q := range []string{
		"CREATE TABLE t (id BIGINT PRIMARY KEY, v TEXT NOT NULL)",
		"INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c')",
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	// A Rows closed before its last row gives its statement back, which
	// then reads from the start again.
	const list = "SELECT id FROM t WHERE id >= ? ORDER BY id"
	for _, want := range []string{"[1]", "[1 2 3]", "[2 3]"} {
		from := 1
		if want == "[2 3]" {
			from = 2
		}
		rows, err := db.QueryContext(ctx, list, from)
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
			if want == "[1]" {
				break
			}
		}
		if err := rows.Close(); err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(ids) != want {
			t.Fatalf("read %v, want %s", ids, want)
		}
	}

	// A failing call (duplicate key) is an error, mapped, and the same
	// statement works afterwards.
	const ins = "INSERT INTO t (id, v) VALUES (?, ?)"
	_, err := conn.Exec(ctx, ins, []any{int64(1), "dup"})
	var ce *driver.ConstraintError
	if !errors.As(err, &ce) {
		t.Fatalf("duplicate insert: %v, want a *driver.ConstraintError", err)
	}
	if _, err := conn.Exec(ctx, ins, []any{int64(4), "d"}); err != nil {
		t.Fatal(err)
	}

	// The table changes under a cached statement: the server prepares it
	// again.
	const get = "SELECT v FROM t WHERE id = ?"
	var v string
	if err := db.QueryRowContext(ctx, get, 4).Scan(&v); err != nil || v != "d" {
		t.Fatalf("got %q, %v", v, err)
	}
	for _, q := range []string{
		"DROP TABLE t",
		"CREATE TABLE t (id BIGINT PRIMARY KEY, w INT, v TEXT NOT NULL)",
		"INSERT INTO t VALUES (4, 7, 'new')",
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.QueryRowContext(ctx, get, 4).Scan(&v); err != nil || v != "new" {
		t.Fatalf("after the table changed: got %q, %v; want new", v, err)
	}

	var u uint64
	if err := db.QueryRowContext(ctx, "SELECT ?", uint64(1<<63+5)).Scan(&u); err != nil || u != 1<<63+5 {
		t.Fatalf("uint64 argument: got %d, %v", u, err)
	}
}
