package gateway_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/forge-orm/forge/gateway"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The hostile-client tests run the gateway as a deployment should: its
// pool logs in as a role that is not a superuser (OpenPostgres checks
// that), and read tokens run on a --read-dsn role that can only SELECT
// (checked too). The other gateway tests connect as the superuser
// "postgres" and build their Server directly, which checks no role; the
// checks are tested here.

const reader2Secret = "r2-0123456789abcdef-read"

func hostileTokens() []gateway.Token {
	return []gateway.Token{
		{Name: "writer", Secret: writeSecret, Role: gateway.RoleWrite},
		{Name: "reader", Secret: readSecret, Role: gateway.RoleRead},
		{Name: "reader2", Secret: reader2Secret, Role: gateway.RoleRead},
		{Name: "other", Secret: otherSecret, Role: gateway.RoleWrite},
	}
}

// pgRoles makes a fresh schema with a table t (1:a, 2:b, 3:c) and a table
// scratch, and two login roles, dropped when the test ends: the gateway's
// (all privileges on the schema's tables, CREATE in it; not a superuser)
// and a read role (SELECT only). It returns the superuser pool on the
// schema, the schema, and the two roles' connection strings.
func pgRoles(t *testing.T) (admin *pgxpool.Pool, schema, gwDSN, roDSN string) {
	t.Helper()
	admin, schema = openPool(t, "")
	gw, ro := schema+"_gw", schema+"_ro"
	for _, sql := range []string{
		"CREATE ROLE " + gw + " LOGIN", "CREATE ROLE " + ro + " LOGIN",
		"GRANT USAGE, CREATE ON SCHEMA " + schema + " TO " + gw, "GRANT USAGE ON SCHEMA " + schema + " TO " + ro,
		"ALTER DEFAULT PRIVILEGES IN SCHEMA " + schema + " GRANT ALL ON TABLES TO " + gw,
		"ALTER DEFAULT PRIVILEGES IN SCHEMA " + schema + " GRANT SELECT ON TABLES TO " + ro,
		"CREATE TABLE t (id int PRIMARY KEY, v text)", "INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c')",
		"CREATE TABLE scratch (n int)", "INSERT INTO scratch VALUES (0)",
	} {
		mustExec(t, admin, sql)
	}
	t.Cleanup(func() {
		ctx := context.Background()
		_, _ = admin.Exec(ctx, "DROP OWNED BY "+gw+", "+ro+" CASCADE")
		_, _ = admin.Exec(ctx, "DROP ROLE IF EXISTS "+gw)
		_, _ = admin.Exec(ctx, "DROP ROLE IF EXISTS "+ro)
	})
	return admin, schema, roleDSN(t, gw, schema), roleDSN(t, ro, schema)
}

// roleDSN is the test server's connection string for another role, with
// search_path set to schema.
func roleDSN(t testing.TB, role, schema string) string {
	u, err := url.Parse(dsn(t))
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.User(role)
	q := u.Query()
	q.Set("search_path", schema)
	q.Set("timezone", "UTC")
	u.RawQuery = q.Encode()
	return u.String()
}

// hostile is a gateway under attack.
type hostile struct {
	t        *testing.T
	admin    *pgxpool.Pool
	schema   string
	url      string
	gw, ro   string // the roles' names
	gwDSN    string
	roDSN    string
	tmpProbe string // a file a COPY ... TO PROGRAM would create
}

// newHostile starts a gateway over pools of conns connections each (one:
// what a request leaves on its session shows on the next).
func newHostile(t *testing.T, conns int32, change func(*gateway.Config)) *hostile {
	t.Helper()
	admin, schema, gwDSN, roDSN := pgRoles(t)
	ctx := context.Background()
	gw, err := gateway.OpenPostgres(ctx, gwDSN, gateway.PostgresOptions{MaxConns: conns, StatementTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(gw.Close)
	ro, err := gateway.OpenPostgres(ctx, roDSN, gateway.PostgresOptions{MaxConns: conns, StatementTimeout: 5 * time.Second, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ro.Close)
	cfg := gateway.Config{Postgres: gw, PostgresReadOnly: ro, Tokens: hostileTokens(), StatementTimeout: 5 * time.Second}
	if change != nil {
		change(&cfg)
	}
	_, u := startServer(t, cfg)
	h := &hostile{t: t, admin: admin, schema: schema, url: u, gw: schema + "_gw", ro: schema + "_ro", gwDSN: gwDSN, roDSN: roDSN,
		tmpProbe: "/tmp/" + schema + "_pwned"}
	if cfg.PostgresReadOnly == nil {
		h.ro = h.gw // read tokens share the gateway's role
	}
	return h
}

// withoutReadDSN runs read tokens on the gateway's own role, as without
// --read-dsn: the READ ONLY transaction, the guard and the session reset
// alone must hold.
func withoutReadDSN(c *gateway.Config) { c.PostgresReadOnly = nil }

// bothSetups runs a test with a --read-dsn role and without one.
func bothSetups(t *testing.T, test func(t *testing.T, change func(*gateway.Config))) {
	t.Run("read-dsn", func(t *testing.T) { test(t, nil) })
	t.Run("shared role", func(t *testing.T) { test(t, withoutReadDSN) })
}

func q(sql string) string {
	b, _ := json.Marshal(sql)
	return `{"query":` + string(b) + `,"params":[]}`
}

func txBody(sqls ...string) string {
	parts := make([]string, len(sqls))
	for i, s := range sqls {
		parts[i] = q(s)
	}
	return `{"queries":[` + strings.Join(parts, ",") + `]}`
}

func (h *hostile) post(token, body string) *response {
	h.t.Helper()
	return neonPost(h.t, h.url, token, body, nil)
}

// expect checks a refusal: the status, and the code when not "".
func (h *hostile) expect(name string, r *response, status int, code string) {
	h.t.Helper()
	if r.status != status {
		h.t.Errorf("%s: status %d, want %d: %s", name, r.status, status, r.body)
		return
	}
	if code != "" {
		if _, c := protoError(h.t, r); c != code {
			h.t.Errorf("%s: code %s, want %s: %s", name, c, code, r.body)
		}
	}
}

// cell returns the only row of a 200 response in array mode.
func (h *hostile) row(name string, r *response) []string {
	h.t.Helper()
	if r.status != 200 {
		h.t.Fatalf("%s: %d %s", name, r.status, r.body)
	}
	var res struct {
		Rows [][]*string `json:"rows"`
	}
	if err := json.Unmarshal(r.body, &res); err != nil || len(res.Rows) != 1 {
		h.t.Fatalf("%s: not one row: %s", name, r.body)
	}
	out := make([]string, len(res.Rows[0]))
	for i, c := range res.Rows[0] {
		if c != nil {
			out[i] = *c
		}
	}
	return out
}

// healthy checks, after an attempt, that the data is unchanged, that a
// write token and another read token still work, and that both pools'
// sessions are as new: role, settings, prepared statements, LISTEN,
// advisory locks, temporary tables, cursors.
func (h *hostile) healthy(after string) {
	h.t.Helper()
	var data string
	if err := h.admin.QueryRow(context.Background(), "SELECT string_agg(id || ':' || v, ',' ORDER BY id) FROM t").Scan(&data); err != nil {
		h.t.Fatalf("after %s: %v", after, err)
	}
	if data != "1:a,2:b,3:c" {
		h.t.Fatalf("after %s: the data changed: %s", after, data)
	}
	if r := h.post(writeSecret, q("UPDATE scratch SET n = n + 1")); r.status != 200 {
		h.t.Fatalf("after %s: the write token fails: %d %s", after, r.status, r.body)
	}
	if got := h.row(after, h.post(reader2Secret, q("SELECT count(*) FROM t"))); got[0] != "3" {
		h.t.Fatalf("after %s: the other read token reads %v", after, got)
	}
	const probe = `SELECT current_user, session_user, current_setting('statement_timeout'), current_setting('search_path'),
		(SELECT count(*) FROM pg_prepared_statements), (SELECT count(*) FROM pg_listening_channels()),
		(SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()),
		to_regclass('pg_temp.tmp') IS NULL, (SELECT count(*) FROM pg_cursors WHERE name <> '')`
	for _, tok := range []struct{ secret, role string }{{writeSecret, h.gw}, {reader2Secret, h.ro}} {
		got := strings.Join(h.row(after, h.post(tok.secret, q(probe))), "|")
		want := tok.role + "|" + tok.role + "|5s|" + h.schema + "|0|0|0|t|0"
		if got != want {
			h.t.Fatalf("after %s: the %s session is %s, want %s", after, tok.role, got, want)
		}
	}
	if _, err := os.Stat(h.tmpProbe); err == nil {
		h.t.Fatalf("after %s: a program ran on the database server", after)
	}
}

// The statements a read token must never run, whatever their form.
var (
	txControlStatements = []string{
		"BEGIN", "BEGIN ISOLATION LEVEL SERIALIZABLE, READ WRITE", "START TRANSACTION READ WRITE", "COMMIT", "COMMIT AND CHAIN",
		"COMMIT WORK AND CHAIN", "END", "END AND CHAIN", "ROLLBACK", "ROLLBACK AND CHAIN", "ABORT", "ABORT AND CHAIN",
		"SAVEPOINT s", "RELEASE SAVEPOINT s", "ROLLBACK TO SAVEPOINT s", "PREPARE TRANSACTION 'gw'", "COMMIT PREPARED 'gw'",
		"ROLLBACK PREPARED 'gw'", "SET TRANSACTION READ WRITE", "SET TRANSACTION SNAPSHOT '00000003-0000001B-1'",
		"SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE", "SET transaction_read_only = off",
		"SET default_transaction_read_only = off",
	}
	sessionStatements = []string{
		"SET statement_timeout = 1", "SET SESSION statement_timeout = 1", "SET LOCAL statement_timeout = 1",
		"SET search_path = pg_catalog", "SET TIME ZONE 'Asia/Tokyo'", "RESET ALL", "RESET statement_timeout", "SET ROLE NONE",
		"RESET ROLE", "SET ROLE postgres", "SET SESSION AUTHORIZATION DEFAULT", "SET SESSION AUTHORIZATION postgres",
		"DISCARD ALL", "DISCARD TEMP", "PREPARE p AS DELETE FROM t", "EXECUTE p", "DEALLOCATE ALL", "LISTEN c", "UNLISTEN *",
		"NOTIFY c", "LOAD 'auto_explain'", "DO $$ BEGIN DELETE FROM t; END $$", "LOCK TABLE t IN ACCESS EXCLUSIVE MODE",
		"LOCK t", "CALL p()", "DECLARE c CURSOR WITH HOLD FOR SELECT 1", "FETCH c", "MOVE c", "CLOSE c", "CLOSE ALL",
		"CHECKPOINT", "VACUUM t", "ANALYZE t", "CLUSTER t", "REINDEX TABLE t", "REFRESH MATERIALIZED VIEW mv",
		"SECURITY LABEL ON TABLE t IS 'x'", "IMPORT FOREIGN SCHEMA x FROM SERVER y INTO z", "REASSIGN OWNED BY x TO y",
	}
)

// TestHostileNeonReadStatements sends a read token (with a --read-dsn
// role and without one) every transaction-control and session statement
// PostgreSQL has, alone, after a leading semicolon and comments, in
// parentheses, chained after a query, in a transaction request around a
// DELETE, and in a DO block: all are refused before reaching PostgreSQL
// (403, 42501), and after each the data and every session are unchanged.
// COPY is refused (400) in every form too.
func TestHostileNeonReadStatements(t *testing.T) { bothSetups(t, testHostileNeonReadStatements) }

func testHostileNeonReadStatements(t *testing.T, change func(*gateway.Config)) {
	h := newHostile(t, 1, change)
	// The attacks.
	h.expect("COMMIT AND CHAIN, SET TRANSACTION READ WRITE, DELETE",
		h.post(readSecret, txBody("COMMIT AND CHAIN", "SET TRANSACTION READ WRITE", "DELETE FROM t", "COMMIT AND CHAIN")), 403, "42501")
	h.healthy("COMMIT AND CHAIN")
	h.expect("ROLLBACK AND CHAIN first",
		h.post(readSecret, txBody("ROLLBACK AND CHAIN", "SET TRANSACTION READ WRITE", "DELETE FROM t")), 403, "42501")
	h.expect("SET statement_timeout in a transaction request",
		h.post(readSecret, txBody("COMMIT AND CHAIN", "SET statement_timeout = 1", "SELECT 1")), 403, "42501")
	h.healthy("ROLLBACK AND CHAIN")
	for _, st := range append(append([]string{}, txControlStatements...), sessionStatements...) {
		forms := map[string]string{
			"alone":                     q(st),
			"after ; and comments":      q(";/* c /* nested */ */ -- x\n;" + st),
			"in parentheses":            q("(" + st + ")"),
			"chained after a query":     q("SELECT 1; " + st),
			"in a transaction request":  txBody("SELECT 1", st, "DELETE FROM t", st),
			"in a DO block via EXECUTE": q("DO $$ BEGIN EXECUTE '" + strings.ReplaceAll(st, "'", "''") + "'; END $$"),
			"in a DO block directly":    q("DO $do$ BEGIN " + st + "; END $do$"),
		}
		for form, body := range forms {
			h.expect(st+" "+form, h.post(readSecret, body), 403, "42501")
		}
		h.healthy(st)
	}
	for _, st := range []string{"COPY t TO STDOUT", "COPY t TO PROGRAM 'touch /tmp/x'", "COPY t FROM STDIN"} {
		for _, body := range []string{q(st), q(";" + st), q("/* c */ -- d\n" + st), q("SELECT 1;" + st), txBody("SELECT 1", st)} {
			h.expect(st, h.post(readSecret, body), 400, "")
		}
	}
	h.healthy("COPY")
}

// TestHostileNeonFunctions calls the functions that reach beyond the
// request in every spelling (qualified, quoted, Unicode-escaped, inside
// strings tricks that a wrong lexer would misread): read tokens are
// refused every one, write tokens those acting on other sessions or the
// server; and the writes that the guard leaves to PostgreSQL are refused
// by it (READ ONLY transaction, read-only role).
func TestHostileNeonFunctions(t *testing.T) { bothSetups(t, testHostileNeonFunctions) }

func testHostileNeonFunctions(t *testing.T, change func(*gateway.Config)) {
	h := newHostile(t, 1, change)
	for _, sql := range []string{
		"SELECT set_config('statement_timeout', '1', false)",
		"SELECT pg_catalog.set_config('statement_timeout', '1', false)",
		`SELECT "set_config"('statement_timeout', '1', false)`,
		`SELECT "pg_catalog" . "set_config" /* c */ ('statement_timeout', '1', false)`,
		`SELECT U&"\0073et_config"('statement_timeout', '1', false)`,
		`SELECT U&"!0073et_config" UESCAPE '!' ('statement_timeout', '1', false)`,
		`SELECT SET_CONFIG('statement_timeout', '1', false)`,
		"SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE usename = current_user",
		"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = current_user",
		"SELECT 1 FROM t WHERE pg_cancel_backend(0)",
		"SELECT pg_advisory_lock(1)", "SELECT pg_advisory_xact_lock(1)", "SELECT pg_try_advisory_lock_shared(1)",
		"SELECT lo_create(0)", "SELECT lo_import('/etc/hostname')", "SELECT lo_from_bytea(0, 'x')",
		"SELECT pg_reload_conf()", "SELECT pg_read_file('/etc/hostname')", "SELECT * FROM pg_ls_dir('.')",
		"SELECT pg_stat_file('postgresql.conf')", "SELECT pg_notify('c', 'x')",
		"SELECT query_to_xml('SELECT pg_cancel_backend(0)', true, true, '')", "SELECT * FROM ts_stat('SELECT 1')",
		"SELECT dblink_exec('dbname=test', 'DELETE FROM t')", "SELECT pg_stat_reset()",
		// Lexer traps: a guard that misread these strings would miss the call.
		"SELECT $a$ ' $a$, pg_cancel_backend(0)",
		`SELECT E'\'', pg_cancel_backend(0)`,
		`SELECT 'x\'', pg_cancel_backend(0) --'`, // code with standard_conforming_strings off
		"SELECT 'a'\n'b', pg_cancel_backend(0)",
		"SELECT 1 -- comment\n, pg_cancel_backend(0)",
		"SELECT /* /* nested */ */ pg_cancel_backend(0)",
	} {
		h.expect("read: "+sql, h.post(readSecret, q(sql)), 403, "42501")
		h.expect("read, in a transaction: "+sql, h.post(readSecret, txBody("SELECT 1", sql)), 403, "42501")
	}
	h.healthy("functions")
	for _, sql := range []string{
		"SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE usename = current_user AND pid <> pg_backend_pid()",
		"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = current_user AND pid <> pg_backend_pid()",
		"SELECT pg_reload_conf()", "SELECT pg_read_file('/etc/hostname')", "SELECT lo_import('/etc/hostname')",
		"DO $$ BEGIN PERFORM pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = current_user; END $$",
	} {
		h.expect("write: "+sql, h.post(writeSecret, q(sql)), 403, "42501")
	}
	h.healthy("write functions")
	// Writes the guard lets through are refused by PostgreSQL.
	for _, sql := range []string{"DELETE FROM t", "INSERT INTO t VALUES (4, 'd')", "UPDATE t SET v = 'x'", "TRUNCATE t",
		"CREATE TEMP TABLE tmp AS SELECT 1", "DROP TABLE t", "SELECT * FROM t FOR UPDATE",
		"WITH x AS (DELETE FROM t RETURNING 1) SELECT count(*) FROM x",
		"WITH x AS (UPDATE pg_settings SET setting = '1' WHERE name = 'statement_timeout' RETURNING 1) SELECT * FROM x",
	} {
		if r := h.post(readSecret, q(sql)); r.status != 400 {
			t.Errorf("read: %s: %d %s", sql, r.status, r.body)
		}
	}
	h.healthy("writes")
	// Reads still work, functions in strings are data.
	if got := h.row("read", h.post(readSecret, q("SELECT 'pg_cancel_backend(0); COMMIT', count(*) FROM t"))); got[1] != "3" {
		t.Errorf("read: %v", got)
	}
}

// TestHostileNeonCopyProgram tries to run a program on the database server
// through COPY ... TO PROGRAM in every disguise. The guard refuses what it
// can read; what it cannot (SQL assembled at run time in a DO block) fails
// in PostgreSQL, because the gateway's role is not a superuser nor a
// member of pg_execute_server_program.
func TestHostileNeonCopyProgram(t *testing.T) {
	h := newHostile(t, 1, nil)
	prog := "touch " + h.tmpProbe
	for _, tc := range []struct{ sql, code string }{
		{"COPY t TO PROGRAM '" + prog + "'", ""},
		{";COPY t TO PROGRAM '" + prog + "'", ""},
		{";;/* x */ -- y\n copy (SELECT 1) TO PROGRAM '" + prog + "'", ""},
		{"COPY t FROM PROGRAM '" + prog + "'", ""},
	} {
		for _, secret := range []string{writeSecret, readSecret} {
			h.expect(tc.sql, h.post(secret, q(tc.sql)), 400, "")
		}
	}
	for _, sql := range []string{
		"DO $$ BEGIN EXECUTE 'COPY t TO PROGRAM ''" + prog + "'''; END $$",
		"DO $x$ BEGIN EXECUTE $y$COPY t TO PROGRAM '" + prog + "'$y$; END $x$",
		"DO LANGUAGE plpgsql $$ BEGIN EXECUTE format('%s t TO PROGRAM %L', 'COPY', '" + prog + "'); END $$",
		"DO $$ BEGIN COPY t TO PROGRAM '" + prog + "'; END $$",
	} {
		h.expect(sql, h.post(writeSecret, q(sql)), 403, "42501")
		h.expect(sql, h.post(readSecret, q(sql)), 403, "42501")
	}
	// Assembled at run time: PostgreSQL refuses the role.
	sql := "DO $$ BEGIN EXECUTE 'CO' || 'PY t TO PROGRAM ''" + prog + "'''; END $$"
	h.expect("assembled COPY", h.post(writeSecret, q(sql)), 400, "42501")
	h.healthy("COPY TO PROGRAM")
}

// TestHostileNeonSessionState checks that nothing a write token does on a
// session reaches the next request: settings, role, prepared statements
// (a read token cannot EXECUTE one either), LISTEN, advisory locks,
// temporary tables, cursors, an open transaction; and that a transaction
// request cannot be split with COMMIT AND CHAIN.
func TestHostileNeonSessionState(t *testing.T) {
	h := newHostile(t, 1, nil)
	for _, sql := range []string{"SET statement_timeout = 1", "SET search_path = pg_catalog", "SET ROLE " + h.gw,
		"PREPARE p AS DELETE FROM t", "LISTEN c", "SELECT pg_advisory_lock(7)", "CREATE TEMP TABLE tmp AS SELECT 1",
		"DECLARE c CURSOR WITH HOLD FOR SELECT 1", "BEGIN", "SELECT set_config('statement_timeout', '1', false)"} {
		if r := h.post(writeSecret, q(sql)); r.status != 200 {
			t.Fatalf("write %s: %d %s", sql, r.status, r.body)
		}
		h.healthy("write " + sql)
	}
	// PREPARE by one token, EXECUTE by another.
	h.post(writeSecret, q("PREPARE p AS DELETE FROM t"))
	h.expect("EXECUTE by a read token", h.post(readSecret, q("EXECUTE p")), 403, "42501")
	h.expect("EXECUTE by a write token later", h.post(otherSecret, q("EXECUTE p")), 400, "26000")
	h.expect("FETCH from an earlier cursor", h.post(otherSecret, q("FETCH c")), 400, "34000")
	// Another token can take the advisory lock a request held.
	if got := h.row("advisory", h.post(otherSecret, q("SELECT pg_try_advisory_lock(7), pg_advisory_unlock(7)"))); got[0] != "t" {
		t.Errorf("the advisory lock outlived its request: %v", got)
	}
	// A BEGIN left open is rolled back, not carried into the next request.
	h.post(writeSecret, q("BEGIN"))
	h.post(writeSecret, q("INSERT INTO scratch VALUES (100)"))
	if n := count(t, h.admin, "scratch WHERE n = 100"); n != 1 {
		t.Errorf("a write after a BEGIN request was not committed (%d rows)", n)
	}
	h.expect("COMMIT AND CHAIN in a write transaction",
		h.post(writeSecret, txBody("INSERT INTO scratch VALUES (200)", "COMMIT AND CHAIN", "INSERT INTO scratch VALUES (201)")), 400, "")
	if n := count(t, h.admin, "scratch WHERE n >= 200"); n != 0 {
		t.Errorf("a split transaction request left %d rows", n)
	}
	h.healthy("session state")
}

// TestHostileNeonExhaustion: one token's slow queries cannot take the
// whole pool (others still get a connection, and the token waits a
// bounded time for its share, then 429); huge parameter arrays are
// refused before decoding; bodies in flight are bounded in bytes; client-
// chosen error codes do not create metric series.
func TestHostileNeonExhaustion(t *testing.T) {
	h := newHostile(t, 4, func(c *gateway.Config) {
		c.AcquireTimeout = time.Second // ample for the other tokens to connect, short against the 3 s sleeps
		c.MaxBodyBytes = 10 << 20
	})
	// 16 slow requests of one read token; its share is 1 of the 4.
	var wg sync.WaitGroup
	statuses := make(chan *response, 16)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses <- h.post(readSecret, q("SELECT pg_sleep(3)"))
		}()
	}
	for deadline := time.Now().Add(10 * time.Second); ; {
		var n int
		if err := h.admin.QueryRow(context.Background(), "SELECT count(*) FROM pg_stat_activity WHERE usename = $1 AND state = 'active' AND query LIKE '%pg_sleep(3)%'", h.ro).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the slow requests never started")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// While they run, the others work.
	h.healthy("16 slow requests of one token (in flight)")
	var n int
	if err := h.admin.QueryRow(context.Background(), "SELECT count(*) FROM pg_stat_activity WHERE usename = $1 AND state = 'active' AND query LIKE '%pg_sleep(3)%'", h.ro).Scan(&n); err != nil || n > 1 {
		t.Errorf("one token runs %d statements at once (share 1): %v", n, err)
	}
	wg.Wait()
	close(statuses)
	ok, refused := 0, 0
	for r := range statuses {
		switch {
		case r.status == 200:
			ok++
		case r.status == 429 && r.header.Get("Retry-After") != "":
			if _, code := protoError(t, r); code == "TOO_MANY_REQUESTS" {
				refused++
			}
		default:
			t.Errorf("slow request: %d %s", r.status, r.body)
		}
	}
	if ok < 1 || refused < 1 || ok+refused != 16 {
		t.Errorf("16 slow requests: %d succeeded, %d refused", ok, refused)
	}

	// Parameters: 4 million (the body) and one over the limit are
	// refused before decoding; a statement over PostgreSQL's 65535 too.
	params := func(n int) string {
		return `{"query":"SELECT 1","params":[` + strings.TrimSuffix(strings.Repeat("0,", n), ",") + `]}`
	}
	h.expect("4M parameters", h.post(writeSecret, params(4_000_000)), 400, "54000")
	h.expect("4 statements of 65536", h.post(writeSecret, `{"queries":[`+strings.Join([]string{params(65536), params(65536), params(65536), params(65536)}, ",")+`]}`), 400, "54000")
	h.expect("65536 in one statement", h.post(readSecret, params(65536)), 400, "")
	h.expect("nested arrays", h.post(writeSecret, `{"query":"SELECT $1","params":[[`+strings.TrimSuffix(strings.Repeat("[0,0],", 140000), ",")+`]]}`), 400, "54000")
	h.healthy("huge parameter arrays")

	// Client-chosen SQLSTATEs fall into a bounded set of metric labels.
	for i := range 40 {
		code := fmt.Sprintf("Z%04d", i)
		if i%2 == 1 {
			code = fmt.Sprintf("22%03d", i)
		}
		r := h.post(writeSecret, q("DO $$ BEGIN RAISE EXCEPTION 'x' USING ERRCODE = '"+code+"'; END $$"))
		if r.status != 400 {
			t.Fatalf("RAISE: %d %s", r.status, r.body)
		}
	}
	m := string(do(t, http.MethodGet, h.url+"/metrics", writeSecret, "", nil).body)
	series := 0
	for _, l := range strings.Split(m, "\n") {
		if strings.HasPrefix(l, "forge_gateway_errors_total{") {
			series++
			if strings.Contains(l, `code="Z`) {
				t.Errorf("a client-chosen code is a label: %s", l)
			}
		}
	}
	if series > 12 || !strings.Contains(m, `code="other"`) || !strings.Contains(m, `code="22xxx"`) {
		t.Errorf("%d error series after 40 client-chosen codes:\n%s", series, m)
	}
	h.healthy("error codes")
}

// TestHostileNeonInflightBytes holds a request's body half sent: with the
// in-flight budget taken, another request waits the acquire timeout and
// gets 503 SERVER_BUSY; once the first ends, requests run again.
func TestHostileNeonInflightBytes(t *testing.T) {
	h := newHostile(t, 2, func(c *gateway.Config) {
		c.MaxBodyBytes, c.MaxInFlightBytes, c.AcquireTimeout = 1000, 1000, 100*time.Millisecond
	})
	u, _ := url.Parse(h.url)
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := q("SELECT '" + strings.Repeat("x", 950) + "' AS x") // 988 bytes: no other request fits beside it
	fmt.Fprintf(conn, "POST /sql HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Length: %d\r\n\r\n%s", writeSecret, len(body), body[:10])
	// Wait until the gateway holds the first request's reservation.
	var r *response
	for deadline := time.Now().Add(10 * time.Second); ; {
		r = h.post(otherSecret, q("SELECT 1"))
		if r.status == 503 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	h.expect("over the in-flight budget", r, 503, "SERVER_BUSY")
	fmt.Fprint(conn, body[10:])
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil || !strings.Contains(line, " 200 ") {
		t.Fatalf("the held request: %q %v", line, err)
	}
	if r := h.post(otherSecret, q("SELECT 1")); r.status != 200 {
		t.Errorf("after the held request: %d %s", r.status, r.body)
	}
}

// TestHostileNeonRoles checks the roles the gateway refuses: a superuser
// (or a member of pg_signal_backend...) for its pool unless the scary
// option is given, and a --read-dsn role that can write; and that the
// command stops at start with the reason.
func TestHostileNeonRoles(t *testing.T) {
	admin, schema, gwDSN, _ := pgRoles(t)
	ctx := context.Background()
	ping := func(dsn string, opts gateway.PostgresOptions) error {
		p, err := gateway.OpenPostgres(ctx, dsn, opts)
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		return p.Ping(ctx)
	}
	var re *gateway.RoleError
	err := ping(dsn(t), gateway.PostgresOptions{})
	if !errors.As(err, &re) || !strings.Contains(re.Message, "superuser") || !strings.Contains(re.Message, "--dangerously-allow-superuser") {
		t.Errorf("superuser: %v", err)
	}
	if err := ping(dsn(t), gateway.PostgresOptions{DangerouslyAllowSuperuser: true}); err != nil {
		t.Errorf("superuser, allowed: %v", err)
	}
	if err := ping(gwDSN, gateway.PostgresOptions{}); err != nil {
		t.Errorf("the gateway's role: %v", err)
	}
	err = ping(gwDSN, gateway.PostgresOptions{ReadOnly: true})
	if !errors.As(err, &re) || !strings.Contains(re.Message, "can write") || !strings.Contains(re.Message, schema+".t") {
		t.Errorf("a writing role as --read-dsn: %v", err)
	}
	sig := schema + "_sig"
	mustExec(t, admin, "CREATE ROLE "+sig+" LOGIN IN ROLE pg_signal_backend")
	t.Cleanup(func() { _, _ = admin.Exec(context.Background(), "DROP ROLE IF EXISTS "+sig) })
	err = ping(roleDSN(t, sig, schema), gateway.PostgresOptions{})
	if !errors.As(err, &re) || !strings.Contains(re.Message, "pg_signal_backend") {
		t.Errorf("a member of pg_signal_backend: %v", err)
	}
	// The command refuses to start, and says why. (Were it to start, the
	// context ends it.)
	mctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	var stdout, stderr syncBuffer
	code := gateway.Main(mctx, []string{"--db", dsn(t), "--listen", "127.0.0.1:0", "--token", "a:" + writeSecret + ":write"}, &stdout, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "superuser") || strings.Contains(stdout.String(), "listening") {
		t.Errorf("Main as a superuser: exit %d\n%s", code, stderr.String())
	}
	code = gateway.Main(mctx, []string{"--db", gwDSN, "--read-dsn", gwDSN, "--listen", "127.0.0.1:0", "--token", "a:" + writeSecret + ":write"}, &stdout, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "can write") {
		t.Errorf("Main with a writing --read-dsn: exit %d\n%s", code, stderr.String())
	}
	// A token's share must leave room for the others.
	p, err := gateway.OpenPostgres(ctx, gwDSN, gateway.PostgresOptions{MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if _, err := gateway.NewServer(gateway.Config{Postgres: p, Tokens: hostileTokens(), MaxPostgresPerToken: 4}); err == nil ||
		!strings.Contains(err.Error(), "below the pool size") {
		t.Errorf("a per-token share equal to the pool: %v", err)
	}
}
