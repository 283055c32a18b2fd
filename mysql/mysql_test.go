package mysql_test

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/forge-orm/forge/driver"
	"github.com/forge-orm/forge/forgetest"
	"github.com/forge-orm/forge/mysql"
	"github.com/forge-orm/forge/stdsql"
)

// dsn returns the test server's DSN. The test command (./scripts/test)
// starts a private MariaDB and sets it.
func dsn(t testing.TB) string {
	d := os.Getenv("FORGE_TEST_MYSQL_DSN")
	if d == "" {
		forgetest.RequireService(t, "MySQL or MariaDB (FORGE_TEST_MYSQL_DSN)")
	}
	return d
}

var dbSeq atomic.Int64

// openDB opens a connection to a fresh database, dropped when the test
// ends: each test gets an empty database of its own.
func openDB(t testing.TB) driver.Conn { return openDBWith(t) }

// openDBWith is openDB with Open's options.
func openDBWith(t testing.TB, opts ...mysql.Option) *stdsql.Conn {
	ctx := context.Background()
	cfg, err := mysql.ParseDSN(dsn(t))
	if err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("forgetest_%d_%d", time.Now().UnixNano()%1e12, dbSeq.Add(1))
	admin, err := mysql.OpenConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name, nil); err != nil {
		admin.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = admin.Exec(context.Background(), "DROP DATABASE "+name, nil)
		admin.Close()
	})
	cfg.DBName = name
	conn, err := mysql.OpenConfig(ctx, cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func TestConformance(t *testing.T) {
	dsn(t)
	forgetest.Run(t, openDB)
}

func TestMigrate(t *testing.T) {
	dsn(t)
	forgetest.RunMigrate(t, openDB)
}

// TestOpenErrors: a URL or DSN that cannot be read is an error before any
// connection.
func TestOpenErrors(t *testing.T) {
	for _, bad := range []string{"mysql://", "mysql://h/db?parseTime=maybe", "not a dsn"} {
		if _, err := mysql.Open(context.Background(), bad); err == nil {
			t.Errorf("Open(%q) succeeded", bad)
		}
	}
}
