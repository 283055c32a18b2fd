package gateway_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/forge-orm/forge/gateway"
	"github.com/forge-orm/forge/wire/hrana"
	wire "github.com/forge-orm/forge/wire/neon"
	"github.com/jackc/pgx/v5/pgxpool"
)

// neonPost sends a Neon request through the gateway with a token.
func neonPost(t testing.TB, url, token, body string, headers map[string]string) *response {
	t.Helper()
	h := map[string]string{wire.HeaderConnectionString: connString, wire.HeaderRawTextOutput: "true", wire.HeaderArrayMode: "true"}
	for k, v := range headers {
		h[k] = v
	}
	return do(t, http.MethodPost, url+"/sql", token, body, h)
}

// TestRolesPostgres checks that PostgreSQL, not the gateway's reading of
// the SQL, refuses a read token's writes: every statement of a read token
// runs in a READ ONLY transaction, which cannot be turned read-write, and
// nothing it sets outlives its request.
func TestRolesPostgres(t *testing.T) {
	// One connection, so that what a request leaves on it would show.
	pool, schema := openPoolWith(t, "", func(c *pgxpool.Config) { c.MaxConns = 1 })
	mustExec(t, pool, `CREATE TABLE t (id int PRIMARY KEY)`)
	mustExec(t, pool, `INSERT INTO t VALUES (1), (2)`)
	mustExec(t, pool, `CREATE SEQUENCE s`)
	mustExec(t, pool, `CREATE FUNCTION sneaky() RETURNS int LANGUAGE sql VOLATILE AS 'INSERT INTO t VALUES (99) RETURNING id'`)
	mustExec(t, pool, `CREATE FUNCTION plpgsql_sneaky() RETURNS void LANGUAGE plpgsql AS $$ BEGIN EXECUTE 'DELETE FROM t'; END $$`)
	_, url := startServer(t, gateway.Config{Postgres: pool})

	for _, tc := range []struct {
		name, body, code string
		status           int // 0: 400
	}{
		{"insert", `{"query":"INSERT INTO t VALUES (3)","params":[]}`, "25006", 0},
		{"CTE", `{"query":"WITH gone AS (DELETE FROM t RETURNING id) SELECT count(*) FROM gone","params":[]}`, "25006", 0},
		{"SQL function", `{"query":"SELECT sneaky()","params":[]}`, "25006", 0},
		{"PL/pgSQL", `{"query":"SELECT plpgsql_sneaky()","params":[]}`, "25006", 0},
		{"nextval", `{"query":"SELECT nextval('s')","params":[]}`, "25006", 0},
		{"DDL", `{"query":"CREATE TABLE u (a int)","params":[]}`, "25006", 0},
		{"SELECT INTO", `{"query":"SELECT * INTO u FROM t","params":[]}`, "25006", 0},
		// Transaction control and session statements never reach
		// PostgreSQL from a read token (the statement guard).
		{"read-write again", `{"queries":[{"query":"SET TRANSACTION READ WRITE","params":[]},{"query":"DELETE FROM t","params":[]}]}`, "42501", 403},
		{"read-write GUC", `{"queries":[{"query":"SET transaction_read_only = off","params":[]},{"query":"DELETE FROM t","params":[]}]}`, "42501", 403},
		{"commit and write", `{"queries":[{"query":"COMMIT","params":[]},{"query":"DELETE FROM t","params":[]}]}`, "42501", 403},
		{"single COMMIT", `{"query":"COMMIT","params":[]}`, "42501", 403},
		{"SET", `{"query":"SET statement_timeout = 1","params":[]}`, "42501", 403},
		{"advisory lock", `{"query":"SELECT pg_advisory_lock(42)","params":[]}`, "42501", 403},
	} {
		r := neonPost(t, url, readSecret, tc.body, nil)
		if tc.status == 0 {
			tc.status = http.StatusBadRequest
		}
		if r.status != tc.status {
			t.Errorf("%s: status %d %s", tc.name, r.status, r.body)
			continue
		}
		if _, code := protoError(t, r); tc.code != "" && code != tc.code {
			t.Errorf("%s: code %s, want %s (%s)", tc.name, code, tc.code, r.body)
		}
	}
	if n := count(t, pool, "t"); n != 2 {
		t.Errorf("the read token's writes left %d rows", n)
	}
	// Reads work, in both forms, and isolation headers still apply.
	r := neonPost(t, url, readSecret, `{"query":"SELECT count(*) FROM t","params":[]}`, nil)
	if r.status != 200 || !strings.Contains(string(r.body), `"rows":[["2"]]`) {
		t.Errorf("read: %d %s", r.status, r.body)
	}
	r = neonPost(t, url, readSecret, `{"queries":[{"query":"SHOW transaction_isolation","params":[]},{"query":"SHOW transaction_read_only","params":[]}]}`,
		map[string]string{wire.HeaderBatchIsolationLevel: "Serializable"})
	if r.status != 200 || !strings.Contains(string(r.body), `"rows":[["serializable"]]`) || !strings.Contains(string(r.body), `"rows":[["on"]]`) {
		t.Errorf("read transaction: %d %s", r.status, r.body)
	}
	// What a token sets or locks does not outlive its request on the
	// pooled connection (every session is reset before it is pooled).
	for _, body := range []string{`{"query":"SET search_path TO pg_catalog","params":[]}`, `{"query":"SET statement_timeout = 1","params":[]}`,
		`{"query":"SELECT pg_advisory_lock(42)","params":[]}`} {
		if r := neonPost(t, url, writeSecret, body, nil); r.status != 200 {
			t.Errorf("%s: %d %s", body, r.status, r.body)
		}
	}
	r = neonPost(t, url, writeSecret, `{"query":"SELECT current_schema(), current_setting('statement_timeout'), pg_try_advisory_lock(42), pg_advisory_unlock(42)","params":[]}`, nil)
	if want := `"rows":[["` + schema + `","0","t","t"]]`; r.status != 200 || !strings.Contains(string(r.body), want) {
		t.Errorf("after the read token: %d %s, want %s", r.status, r.body, want)
	}
	// A write token writes, in both forms.
	if r := neonPost(t, url, writeSecret, `{"query":"INSERT INTO t VALUES (3)","params":[]}`, nil); r.status != 200 {
		t.Errorf("write: %d %s", r.status, r.body)
	}
	if r := neonPost(t, url, writeSecret, `{"queries":[{"query":"INSERT INTO t VALUES (4)","params":[]},{"query":"SELECT sneaky()","params":[]}]}`, nil); r.status != 200 {
		t.Errorf("write transaction: %d %s", r.status, r.body)
	}
	if n := count(t, pool, "t"); n != 5 {
		t.Errorf("%d rows after the write token's writes", n)
	}
	_ = context.Background()
}

// TestRolesSQLite checks that SQLite refuses a read token's writes: its
// statements run on a connection opened with mode=ro, which no statement
// can make writable.
func TestRolesSQLite(t *testing.T) {
	url := sqliteServer(t, gateway.Config{})
	w := &hc{t: t, url: url, token: writeSecret}
	w.mustExec(`CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)`)
	w.mustExec(`INSERT INTO t (v) VALUES ('a'), ('b')`)
	w.mustExec(`CREATE TABLE log (v TEXT)`)
	w.mustExec(`CREATE VIEW vt AS SELECT * FROM t`)
	w.mustExec(`CREATE TRIGGER vt_ins INSTEAD OF INSERT ON vt BEGIN INSERT INTO t (v) VALUES (new.v); END`)
	r := &hc{t: t, url: url, token: readSecret}
	for _, sql := range []string{
		`INSERT INTO t (v) VALUES ('x')`,
		`WITH x AS (SELECT 1) DELETE FROM t WHERE id IN (SELECT * FROM x)`,
		`INSERT INTO vt (v) VALUES ('through a trigger')`,
		`UPDATE t SET v = upper(v) RETURNING *`,
		`CREATE TABLE u (a)`,
		`DROP TABLE log`,
		`REPLACE INTO t (id, v) VALUES (1, 'r')`,
	} {
		if _, e := r.exec(sql); e == nil || e.Code != "SQLITE_READONLY" {
			t.Errorf("%s: %v, want SQLITE_READONLY", sql, e)
		}
	}
	// query_only can be turned off, mode=ro cannot.
	resp := r.must(nil, hrana.ExecuteRequest(hrana.NewStmt(`PRAGMA query_only = 0`, nil, false)),
		hrana.ExecuteRequest(hrana.NewStmt(`DELETE FROM t`, nil, false)), hrana.CloseRequest())
	if e := resp.Results[1].Error; e == nil || e.Code != "SQLITE_READONLY" {
		t.Errorf("after PRAGMA query_only = 0: %s", jsonOf(resp.Results[1]))
	}
	// Reads work, in a transaction too (BEGIN IMMEDIATE, which a read
	// connection cannot take, runs as BEGIN DEFERRED).
	resp = r.must(nil, hrana.BatchRequest(hrana.BatchStep{Stmt: hrana.NewStmt("BEGIN IMMEDIATE", nil, false)},
		hrana.BatchStep{Condition: ptr(hrana.CondOK(0)), Stmt: hrana.NewStmt(`SELECT count(*) FROM t`, nil, true)},
		hrana.BatchStep{Condition: ptr(hrana.CondOK(1)), Stmt: hrana.NewStmt("COMMIT", nil, false)}), hrana.CloseRequest())
	if b := resp.Results[0].Response.Batch; b.StepResults[2] == nil || b.StepResults[1].Rows[0][0].Int != 2 {
		t.Errorf("read transaction: %s", jsonOf(resp.Results[0]))
	}
	if n := w.scalar(`SELECT count(*) FROM t`); n.Int != 2 {
		t.Errorf("%d rows", n.Int)
	}
	// A write token's PRAGMA does not reach the next stream: the connection
	// it changed is closed, not pooled.
	w.mustExec(`PRAGMA foreign_keys = OFF`)
	for range 8 {
		if got := w.scalar(`PRAGMA foreign_keys`); got.Int != 1 {
			t.Fatalf("foreign_keys is %d on a pooled connection", got.Int)
		}
	}
}
