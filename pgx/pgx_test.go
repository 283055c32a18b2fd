package pgx_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/forge-orm/forge/dialect"
	"github.com/forge-orm/forge/driver"
	"github.com/forge-orm/forge/forgetest"
	"github.com/forge-orm/forge/pgx"
	"github.com/forge-orm/forge/stdsql"
	jpgx "github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
)

// dsn returns the test server's connection string. The test command
// (./scripts/test) starts a private PostgreSQL and sets it.
func dsn(t testing.TB) string {
	d := os.Getenv("FORGE_TEST_PG_DSN")
	if d == "" {
		forgetest.RequireService(t, "PostgreSQL (FORGE_TEST_PG_DSN)")
	}
	return d
}

var schemaSeq atomic.Int64

// openSchema opens a pool whose search_path is a fresh schema, dropped
// when the test ends: each test gets an empty database of its own.
func openSchema(t testing.TB) driver.Conn {
	ctx := context.Background()
	cfg, err := pgxpool.ParseConfig(dsn(t))
	if err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("forgetest_%d_%d", time.Now().UnixNano(), schemaSeq.Add(1))
	admin, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+name); err != nil {
		admin.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = admin.Exec(context.Background(), "DROP SCHEMA "+name+" CASCADE")
		admin.Close()
	})
	cfg.ConnConfig.RuntimeParams["search_path"] = name
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return pgx.New(pool)
}

func TestConformance(t *testing.T) {
	dsn(t)
	forgetest.Run(t, openSchema)
}

// openOne opens one connection (FromConn) whose search_path is a fresh
// schema, dropped when the test ends.
func openOne(t testing.TB) driver.Conn {
	pool := openSchema(t).(*pgx.Conn)
	cfg := pool.Pool().Config().ConnConfig
	pool.Close()
	pgx.KeepOnCancel(&cfg.Config)
	c, err := jpgx.ConnectConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return pgx.FromConn(c)
}

// TestConformanceFromConn runs the suite over one connection (FromConn),
// the way the hyperdrive module uses it.
func TestConformanceFromConn(t *testing.T) {
	dsn(t)
	forgetest.Run(t, openOne)
}

// TestFromConnTakesTurns: concurrent callers of a FromConn Conn wait for
// the connection (rows open, a transaction) rather than finding it busy,
// and a caller whose context ends while waiting gets that error.
func TestFromConnTakesTurns(t *testing.T) {
	dsn(t)
	c := openOne(t)
	defer c.Close()
	ctx := context.Background()
	rows, err := c.Query(ctx, "SELECT 1", nil)
	if err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := c.Exec(short, "SELECT 2", nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Exec while rows are open: %v, want to wait until its context ends", err)
	}
	done := make(chan error, 8)
	for i := 0; i < 8; i++ {
		go func() {
			_, err := c.Exec(ctx, "SELECT pg_sleep(0.001)", nil)
			done <- err
		}()
	}
	rows.Close()
	for i := 0; i < 8; i++ {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
	tx, err := c.(driver.Beginner).Begin(ctx, driver.TxOptions{})
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		_, err := c.Exec(ctx, "SELECT 3", nil)
		done <- err
	}()
	if _, err := tx.Exec(ctx, "SELECT 4", nil); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Error(err)
	}
}

// TestConformanceStdSQL runs the suite through the generic database/sql
// adapter, over pgx's database/sql driver.
func TestConformanceStdSQL(t *testing.T) {
	dsn(t)
	forgetest.Run(t, func(t testing.TB) driver.Conn {
		conn := openSchema(t).(*pgx.Conn)
		db := stdlib.OpenDBFromPool(conn.Pool())
		c, err := stdsql.New(db, stdsql.Config{Dialect: dialect.Postgres, Name: "database/sql+pgx", MapError: pgx.MapError})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		return c
	})
}

// TestBatchRows reads rows from a pipelined batch (the path batch-only
// drivers use for a multi-statement CreateMany).
func TestBatchRows(t *testing.T) {
	conn := openSchema(t).(*pgx.Conn)
	defer conn.Close()
	ctx := context.Background()
	if _, err := conn.Exec(ctx, `CREATE TABLE t (id bigint PRIMARY KEY, j jsonb, n integer, s text)`, nil); err != nil {
		t.Fatal(err)
	}
	res, err := conn.Batch(ctx, []driver.Stmt{
		{SQL: `INSERT INTO t VALUES ($1, $2, $3, $4) RETURNING id, j, n, s`, Args: []any{int64(1) << 60, `{"a": 12345678901234567890}`, int32(7), nil}, Rows: true},
		{SQL: `UPDATE t SET n = n + 1`},
	})
	if err != nil {
		t.Fatal(err)
	}
	if res[1].RowsAffected != 1 || res[1].Rows != nil {
		t.Errorf("exec result %+v", res[1])
	}
	r := res[0].Rows
	if !r.Next() {
		t.Fatal("no row")
	}
	var id int64
	var j []byte
	var n int32
	var s *string
	if err := r.Scan(&id, &j, &n, &s); err != nil {
		t.Fatal(err)
	}
	if id != 1<<60 || string(j) != `{"a": 12345678901234567890}` || n != 7 || s != nil {
		t.Errorf("got %d %s %d %v", id, j, n, s)
	}
}

func TestMigrate(t *testing.T) {
	dsn(t)
	forgetest.RunMigrate(t, openSchema)
}
