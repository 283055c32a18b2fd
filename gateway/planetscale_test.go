package gateway_test

import (
	"context"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/forge-orm/forge/driver"
	"github.com/forge-orm/forge/forgetest"
	"github.com/forge-orm/forge/gateway"
	"github.com/forge-orm/forge/planetscale"
)

// rowsOf returns a function that returns the values of a Query's rows,
// failing t on an error.
func rowsOf(t testing.TB) func(driver.Rows, error) [][]any {
	return func(r driver.Rows, err error) [][]any {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return r.(*driver.BufferedRows).Values
	}
}

// TestPlanetScaleDriverValues reads every MySQL type back through the
// gateway and forge's planetscale driver, and writes every argument type.
func TestPlanetScaleDriverValues(t *testing.T) {
	d, _, url := psServer(t, gateway.Config{})
	d.mustExec(t, "CREATE TABLE v (id BIGINT PRIMARY KEY, i8 TINYINT, u64 BIGINT UNSIGNED, f FLOAT, dbl DOUBLE, "+
		"dec1 DECIMAL(40,10), dt DATETIME(6), d DATE, ts TIMESTAMP(3) NULL, tm TIME, y YEAR, txt LONGTEXT, vc VARCHAR(20), "+
		"bin VARBINARY(10), blb LONGBLOB, bits BIT(8), js JSON, e ENUM('a','b'), n INT NULL)")
	ctx := context.Background()
	c := openPS(t, url, "writer", writeSecret)
	when := time.Date(2024, 2, 29, 23, 59, 58, 123456000, time.UTC)
	res, err := c.Exec(ctx, "INSERT INTO v VALUES (?, ?, 18446744073709551615, 0.5, ?, '-123456789012345678901234567890.0123456789', ?, '2024-01-02', '2024-01-02 03:04:05.678', '-838:59:59', 2024, ?, ?, ?, ?, b'10100101', '{\"a\": [1, \"x\"]}', 'b', NULL)",
		[]any{int64(math.MaxInt64), int64(-128), 1e300, when, "it's a \\ \"test\"\n\x00Zoë", "?", []byte{0, 0xff, '\''}, []byte{}})
	if err != nil {
		t.Fatal(err)
	}
	if res.RowsAffected != 1 {
		t.Errorf("RowsAffected = %d", res.RowsAffected)
	}
	got := rowsOf(t)(c.Query(ctx, "SELECT * FROM v", nil))
	want := []any{int64(math.MaxInt64), int64(-128), "18446744073709551615", 0.5, 1e300, "-123456789012345678901234567890.0123456789",
		when, time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC), time.Date(2024, 1, 2, 3, 4, 5, 678000000, time.UTC), "-838:59:59", int64(2024),
		"it's a \\ \"test\"\n\x00Zoë", "?", []byte{0, 0xff, '\''}, []byte{}, []byte{0xa5}, nil, "b", nil}
	if len(got) != 1 {
		t.Fatalf("%d rows", len(got))
	}
	for i, w := range want {
		if i == 16 { // JSON: MariaDB normalises nothing, MySQL reformats
			if s, _ := got[0][i].(string); !strings.Contains(s, `"a"`) {
				t.Errorf("json = %#v", got[0][i])
			}
			continue
		}
		if !reflect.DeepEqual(got[0][i], w) {
			t.Errorf("column %d = %#v, want %#v", i, got[0][i], w)
		}
	}
	// Auto-increment ids come back as the last insert id.
	d.mustExec(t, "CREATE TABLE ai (id BIGINT AUTO_INCREMENT PRIMARY KEY, s VARCHAR(10) UNIQUE)")
	res, err = c.Exec(ctx, "INSERT INTO ai (s) VALUES (?)", []any{"x"})
	if err != nil || !res.HasLastInsertID || res.LastInsertID != 1 {
		t.Errorf("insert id: %+v, %v", res, err)
	}
	// A duplicate is a *driver.ConstraintError with the key's name.
	_, err = c.Exec(ctx, "INSERT INTO ai (s) VALUES (?)", []any{"x"})
	var ce *driver.ConstraintError
	if !errors.As(err, &ce) || ce.Kind != driver.Unique || ce.Constraint != "s" {
		t.Errorf("duplicate: %v (%#v)", err, ce)
	}
	var pe *planetscale.Error
	if !errors.As(err, &pe) || pe.Number() != 1062 || pe.SQLState() != "23000" || pe.Code != "ALREADY_EXISTS" {
		t.Errorf("duplicate: %#v", pe)
	}
}

// TestPlanetScaleDriverTransactions: commit, rollback, a batch, and a
// COMMIT that reaches an expired session is an error, never a success.
func TestPlanetScaleDriverTransactions(t *testing.T) {
	d, _, url := psServer(t, gateway.Config{})
	d.mustExec(t, "CREATE TABLE acct (id INT PRIMARY KEY, bal INT NOT NULL)", "INSERT INTO acct VALUES (1, 100), (2, 0)")
	ctx := context.Background()
	c := openPS(t, url, "writer", writeSecret)
	balances := func() []any {
		rows := rowsOf(t)(c.Query(ctx, "SELECT bal FROM acct ORDER BY id", nil))
		return []any{rows[0][0], rows[1][0]}
	}
	tx, err := c.Begin(ctx, driver.TxOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"UPDATE acct SET bal = bal - 10 WHERE id = 1", "UPDATE acct SET bal = bal + 10 WHERE id = 2"} {
		if _, err := tx.Exec(ctx, q, nil); err != nil {
			t.Fatal(err)
		}
	}
	// Outside the transaction nothing is visible yet.
	if b := balances(); !reflect.DeepEqual(b, []any{int64(100), int64(0)}) {
		t.Errorf("before commit: %v", b)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if b := balances(); !reflect.DeepEqual(b, []any{int64(90), int64(10)}) {
		t.Errorf("after commit: %v", b)
	}
	tx, _ = c.Begin(ctx, driver.TxOptions{})
	if _, err := tx.Exec(ctx, "UPDATE acct SET bal = 0", nil); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if b := balances(); !reflect.DeepEqual(b, []any{int64(90), int64(10)}) {
		t.Errorf("after rollback: %v", b)
	}
	// A batch is atomic: the failing statement rolls back the first.
	_, err = c.Batch(ctx, []driver.Stmt{{SQL: "UPDATE acct SET bal = 1"}, {SQL: "INSERT INTO acct VALUES (1, 0)"}})
	var be *driver.BatchError
	if !errors.As(err, &be) || be.Index != 1 {
		t.Errorf("batch: %v", err)
	}
	if b := balances(); !reflect.DeepEqual(b, []any{int64(90), int64(10)}) {
		t.Errorf("after a failed batch: %v", b)
	}
	out, err := c.Batch(ctx, []driver.Stmt{{SQL: "UPDATE acct SET bal = bal + 1"}, {SQL: "SELECT SUM(bal) FROM acct", Rows: true}})
	if err != nil || out[0].RowsAffected != 2 {
		t.Fatalf("batch: %v %+v", err, out)
	}
	// The isolation level applies to its transaction, and to it only:
	// READ COMMITTED sees a row another session commits meanwhile, the
	// default (REPEATABLE READ) does not, and SERIALIZABLE's plain reads
	// lock the row (TestPlanetScaleDriverSerializable).
	bal2 := func(q driver.Querier) int64 {
		return rowsOf(t)(q.Query(ctx, "SELECT bal FROM acct WHERE id = 2", nil))[0][0].(int64)
	}
	seen := func(level driver.IsolationLevel) int64 {
		tx, err := c.Begin(ctx, driver.TxOptions{Isolation: level})
		if err != nil {
			t.Fatal(err)
		}
		before := bal2(tx)
		d.mustExec(t, "UPDATE acct SET bal = bal + 1 WHERE id = 2")
		after := bal2(tx)
		if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		return after - before
	}
	for _, c := range []struct {
		level driver.IsolationLevel
		want  int64
	}{{"", 0}, {driver.ReadCommitted, 1}, {"", 0}, {driver.RepeatableRead, 0}, {driver.ReadUncommitted, 1}, {"", 0}} {
		if got := seen(c.level); got != c.want {
			t.Errorf("a %q transaction saw a change committed meanwhile %d times, want %d", c.level, got, c.want)
		}
	}
	// A read-only transaction refuses writes.
	tx, err = c.Begin(ctx, driver.TxOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "UPDATE acct SET bal = 0", nil); err == nil {
		t.Error("a read-only transaction wrote")
	}
	_ = tx.Rollback(ctx)
}

// TestPlanetScaleDriverExpiredCommit: the server ends a transaction idle
// longer than its limit; its COMMIT then fails, and nothing of it is
// applied (a COMMIT that fails is always reported).
func TestPlanetScaleDriverExpiredCommit(t *testing.T) {
	d, _, url := psServer(t, gateway.Config{StreamIdle: 300 * time.Millisecond})
	d.mustExec(t, "CREATE TABLE acct (id INT PRIMARY KEY, bal INT NOT NULL)", "INSERT INTO acct VALUES (1, 100)")
	ctx := context.Background()
	c := openPS(t, url, "writer", writeSecret)
	tx, err := c.Begin(ctx, driver.TxOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// On a slow machine the session may already have expired here: then
	// this fails (ABORTED) and the COMMIT below must fail all the same.
	_, _ = tx.Exec(ctx, "UPDATE acct SET bal = 0", nil)
	time.Sleep(time.Second) // over three times the idle limit
	err = tx.Commit(ctx)
	var cerr *planetscale.CommitError
	if !errors.As(err, &cerr) {
		t.Fatalf("COMMIT of an expired transaction = %v, want a *planetscale.CommitError", err)
	}
	if got := rowsOf(t)(c.Query(ctx, "SELECT bal FROM acct", nil))[0][0]; got != int64(100) {
		t.Errorf("after an expired transaction: %v", got)
	}
}

// TestPlanetScaleDriverSerializable: a SERIALIZABLE transaction's plain
// reads lock the rows they read (InnoDB), so the administrator's update of
// such a row waits and times out while the transaction is open.
func TestPlanetScaleDriverSerializable(t *testing.T) {
	d, _, url := psServer(t, gateway.Config{})
	d.mustExec(t, "CREATE TABLE acct (id INT PRIMARY KEY, bal INT NOT NULL)", "INSERT INTO acct VALUES (1, 100), (2, 0)")
	ctx := context.Background()
	c := openPS(t, url, "writer", writeSecret)
	bal2 := func(q driver.Querier) int64 {
		return rowsOf(t)(q.Query(ctx, "SELECT bal FROM acct WHERE id = 2", nil))[0][0].(int64)
	}
	tx, err := c.Begin(ctx, driver.TxOptions{Isolation: driver.Serializable})
	if err != nil {
		t.Fatal(err)
	}
	bal2(tx)
	d.mustExec(t, "SET SESSION innodb_lock_wait_timeout = 1")
	_, err = d.admin.Exec("UPDATE acct SET bal = bal WHERE id = 2")
	d.mustExec(t, "SET SESSION innodb_lock_wait_timeout = DEFAULT")
	if err == nil || !strings.Contains(err.Error(), "1205") {
		t.Errorf("an update of a row a SERIALIZABLE transaction read: %v, want a lock wait timeout (1205)", err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestPlanetScaleConformance runs forge's conformance suite through
// forge's planetscale driver, over HTTP, through the gateway, on MySQL or
// MariaDB: each test gets a database of its own.
func TestPlanetScaleConformance(t *testing.T) {
	mysqlDSN(t)
	forgetest.Run(t, func(t testing.TB) driver.Conn {
		_, _, url := psServer(t, gateway.Config{})
		return openPS(t, url, "writer", writeSecret)
	})
}

// TestPlanetScaleJSClient runs the real @planetscale/database client
// (pinned in js/package.json) against the gateway: every value type,
// positional and named arguments, rows as arrays, insert ids, a duplicate
// and a syntax error, transactions that commit, roll back on an error and
// on a throw, concurrent transactions, a read token whose writes fail, and
// an unknown token. testdata/planetscale-client.mjs prints what the
// client returned.
func TestPlanetScaleJSClient(t *testing.T) {
	d, _, url := psServer(t, gateway.Config{})
	out := runNode(t, "planetscale-client.mjs", "PS_URL="+psURL(url, "writer", writeSecret),
		"PS_READ_URL="+psURL(url, "reader", readSecret), "PS_BAD_URL="+psURL(url, "writer", "nope"))
	type m = map[string]any
	type a = []any
	check := func(step string, want any) {
		t.Helper()
		if got := out[step]; !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %s\nwant %s", step, jsonOf(got), jsonOf(want))
		}
	}
	check("create", "ok")
	check("insert", m{"rowsAffected": float64(1), "insertId": "0"})
	check("select", a{m{"id": float64(1), "i8": float64(-128), "i64": "9007199254740993", "u64": "18446744073709551615", "f": 3.25, "fl": 0.5,
		"d": "12345678901234.5678", "dt": "2024-01-02 03:04:05.678", "dd": "2024-02-29", "tm": "-01:02:03", "y": float64(2024),
		"s": "it's \"quoted\" \\ ünï", "tl": "1000", "b": m{"bytes": a{float64(0), float64(1), float64(255)}}, "bl": m{"bytes": a{}},
		"j": jsonValue(t, d), "e": "y", "n": nil}})
	check("types", a{a{"id", "INT32"}, a{"i64", "INT64"}, a{"d", "DECIMAL"}, a{"b", "VARBINARY"}, a{"n", "INT32"}})
	check("arrays", a{a{float64(1), nil, "z"}})
	check("named", a{m{"a": float64(7), "b": "bee"}})
	check("autoinc", a{"1", float64(1), "2", float64(2)})
	check("update", float64(3))
	for _, step := range []string{"duplicate", "syntax"} {
		e, _ := out[step].(m)["error"].(m)
		if e == nil || e["name"] != "DatabaseError" {
			t.Errorf("%s: %s", step, jsonOf(out[step]))
		}
	}
	if e, _ := out["duplicate"].(m)["error"].(m); e == nil || e["code"] != "ALREADY_EXISTS" || !strings.Contains(e["message"].(string), "(errno 1062) (sqlstate 23000)") {
		t.Errorf("duplicate: %s", jsonOf(out["duplicate"]))
	}
	check("txCommit", "4")
	check("txRollback", m{"rolledBack": "DatabaseError"})
	check("txThrow", "boom")
	check("concurrent", a{float64(1), float64(1), float64(1), float64(1), float64(1), float64(1), float64(1), float64(1), float64(1), float64(1), float64(1), float64(1)})
	check("after", a{"a!", "b!", "c!", "c0", "c1", "c2", "c3", "c4", "c5", "tx1"})
	check("readSelect", a{m{"n": "10"}})
	for _, step := range []string{"readInsert", "readTx"} {
		if e, _ := out[step].(m)["error"].(m); e == nil || e["status"] != float64(403) || e["code"] != "PERMISSION_DENIED" {
			t.Errorf("%s: %s, want a 403 PERMISSION_DENIED", step, jsonOf(out[step]))
		}
	}
	check("readTxSelect", a{m{"n": "10"}})
	if e, _ := out["badToken"].(m)["error"].(m); e == nil || e["status"] != float64(401) {
		t.Errorf("unknown token: %s", jsonOf(out["badToken"]))
	}
}

// jsonValue is what the client makes of the JSON column: MySQL's JSON
// type is parsed, MariaDB's (a LONGTEXT) is the text.
func jsonValue(t *testing.T, d *psDB) any {
	var v string
	if err := d.admin.QueryRow("SELECT VERSION()").Scan(&v); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(strings.ToLower(v), "mariadb") {
		return `{"a":[1,null]}`
	}
	return map[string]any{"a": []any{float64(1), nil}}
}
