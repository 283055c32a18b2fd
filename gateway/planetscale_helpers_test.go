package gateway_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/forge-orm/forge/fetch/nethttp"
	"github.com/forge-orm/forge/forgetest"
	"github.com/forge-orm/forge/gateway"
	"github.com/forge-orm/forge/planetscale"
	"github.com/go-sql-driver/mysql"
)

// mysqlDSN returns the test server's DSN (an administrator's). The test
// command (./scripts/test) starts a private MariaDB and sets it.
func mysqlDSN(t testing.TB) string {
	d := os.Getenv("FORGE_TEST_MYSQL_DSN")
	if d == "" {
		forgetest.RequireService(t, "MySQL or MariaDB (FORGE_TEST_MYSQL_DSN)")
	}
	return d
}

var mysqlSeq atomic.Int64

// psDB is a fresh MySQL database with two users of its own: one that may
// do anything in the database (the gateway's --db user) and one that may
// only read it (--read-dsn). All are dropped when the test ends.
type psDB struct {
	admin       *sql.DB // the administrator, on the database
	name        string
	write, read *mysql.Config
}

func newPSDB(t testing.TB) *psDB {
	t.Helper()
	ctx := context.Background()
	base, err := gateway.ParseMySQLDSN(mysqlDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	n := fmt.Sprintf("%d_%d", time.Now().UnixNano()%1e10, mysqlSeq.Add(1))
	name := "psgw_" + n
	adminCfg := base.Clone()
	adminCfg.DBName = ""
	adminCfg.Params = map[string]string{"time_zone": "'+00:00'"}
	admin := openMySQLConfig(t, adminCfg)
	var pw [12]byte
	_, _ = rand.Read(pw[:])
	pass := hex.EncodeToString(pw[:])
	wu, ru := "psw_"+n, "psr_"+n
	for _, q := range []string{
		"CREATE DATABASE " + name,
		"CREATE USER '" + wu + "'@'%' IDENTIFIED BY '" + pass + "'",
		"CREATE USER '" + ru + "'@'%' IDENTIFIED BY '" + pass + "'",
		"GRANT ALL PRIVILEGES ON " + name + ".* TO '" + wu + "'@'%'",
		"GRANT SELECT ON " + name + ".* TO '" + ru + "'@'%'",
	} {
		if _, err := admin.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	t.Cleanup(func() {
		for _, q := range []string{"DROP DATABASE IF EXISTS " + name, "DROP USER IF EXISTS '" + wu + "'@'%'", "DROP USER IF EXISTS '" + ru + "'@'%'"} {
			_, _ = admin.ExecContext(context.Background(), q)
		}
	})
	if _, err := admin.ExecContext(ctx, "USE "+name); err != nil {
		t.Fatal(err)
	}
	admin.SetMaxOpenConns(1) // USE holds on its one connection
	d := &psDB{admin: admin, name: name}
	d.write, d.read = base.Clone(), base.Clone()
	d.write.User, d.write.Passwd, d.write.DBName = wu, pass, name
	d.read.User, d.read.Passwd, d.read.DBName = ru, pass, name
	return d
}

func openMySQLConfig(t testing.TB, cfg *mysql.Config) *sql.DB {
	t.Helper()
	c, err := mysql.NewConnector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(c)
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// psServer runs a gateway serving PlanetScale's protocol on a fresh
// database, its --db and --read-dsn pools opened by gateway.OpenMySQL, and
// returns the database and the gateway's URL.
func psServer(t testing.TB, cfg gateway.Config) (*psDB, *gateway.Server, string) {
	t.Helper()
	d := newPSDB(t)
	ctx := context.Background()
	w, err := gateway.OpenMySQL(ctx, d.write.FormatDSN(), gateway.MySQLOptions{MaxConns: 8, StatementTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = w.Close() })
	r, err := gateway.OpenMySQL(ctx, d.read.FormatDSN(), gateway.MySQLOptions{MaxConns: 8, StatementTimeout: 10 * time.Second, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	cfg.MySQL, cfg.MySQLReadOnly = w, r
	srv, url := startServer(t, cfg)
	return d, srv, url
}

// psURL is the URL the planetscale driver and @planetscale/database take
// for a token of the test gateway at base (http://127.0.0.1:PORT).
func psURL(base, name, secret string) string {
	return "http://" + name + ":" + secret + "@" + base[len("http://"):]
}

// openPS opens forge's planetscale driver on the gateway at base.
func openPS(t testing.TB, base, name, secret string) *planetscale.Conn {
	t.Helper()
	c, err := planetscale.Open(context.Background(), planetscale.Config{URL: psURL(base, name, secret), Fetch: nethttp.New(nil)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// mustExec runs statements as the administrator.
func (d *psDB) mustExec(t testing.TB, qs ...string) {
	t.Helper()
	for _, q := range qs {
		if _, err := d.admin.ExecContext(context.Background(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}
