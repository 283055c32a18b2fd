package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/forge-orm/forge/gateway"
)

// psCall posts body to a PlanetScale path of the gateway with Basic
// authentication and returns the status and decoded JSON body.
func psCall(t testing.TB, base, path, name, secret, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest("POST", base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(name, secret)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("%s: not JSON: %s", path, b)
	}
	return res.StatusCode, out
}

// psExec runs one statement with a session (nil: none).
func psExec(t testing.TB, base, name, secret, query string, session any) (int, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(map[string]any{"query": query, "session": session})
	return psCall(t, base, "/psdb.v1alpha1.Database/Execute", name, secret, string(b))
}

func psError(out map[string]any) string {
	if e, ok := out["error"].(map[string]any); ok {
		return e["code"].(string) + ": " + e["message"].(string)
	}
	return ""
}

// TestPlanetScaleHostile: read and write tokens try to write where they
// may not, reach the server's files, hold locks and sessions, sleep,
// smuggle a second statement, forge sessions and session variables, and
// leave state on pooled connections. After every attempt the data is
// unchanged and the gateway answers.
func TestPlanetScaleHostile(t *testing.T) {
	d, _, url := psServer(t, gateway.Config{Tokens: hostileTokens(), StreamIdle: time.Minute})
	d.mustExec(t, "CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(10))", "INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c')",
		"CREATE PROCEDURE p() DELETE FROM t")
	state := func() string {
		var parts []string
		rows, err := d.admin.Query("SELECT id, v FROM t ORDER BY id")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var id int
			var v string
			_ = rows.Scan(&id, &v)
			parts = append(parts, v)
		}
		return strings.Join(parts, ",")
	}
	healthy := func(what string) {
		t.Helper()
		if s := state(); s != "a,b,c" {
			t.Fatalf("after %s: t holds %q", what, s)
		}
		res, err := http.Get(url + "/healthz")
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("after %s: /healthz %v %v", what, res, err)
		}
		res.Body.Close()
		for _, tok := range [][2]string{{"reader", readSecret}, {"writer", writeSecret}} {
			if st, out := psExec(t, url, tok[0], tok[1], "SELECT COUNT(*) AS n FROM t", nil); st != 200 || psError(out) != "" {
				t.Fatalf("after %s: %s's SELECT: %d %v", what, tok[0], st, out)
			}
		}
	}
	refused := func(who, secret, query string, wantStatus int) {
		t.Helper()
		st, out := psExec(t, url, who, secret, query, nil)
		if st != wantStatus || psError(out) == "" {
			t.Errorf("%s %q: %d %v, want %d with an error", who, query, st, out, wantStatus)
		}
		healthy(who + " " + query)
	}
	// A read token: only SELECT-like statements, nothing that writes,
	// waits, locks, reaches files or keeps session state.
	for _, q := range []string{
		"INSERT INTO t VALUES (4, 'd')",
		"DELETE FROM t",
		"SELECT * FROM t INTO OUTFILE '/tmp/forge-ps-out'",
		"SELECT LOAD_FILE('/etc/passwd')",
		"SELECT SLEEP(30)",
		"SELECT BENCHMARK(100000000, MD5('x'))",
		"SELECT GET_LOCK('forge', 30)",
		"SET autocommit = 0",
		"SELECT 1 /*! , (SELECT 1 FROM t FOR UPDATE) */",
		"SELECT * FROM t FOR UPDATE",
		"SELECT * FROM t LOCK IN SHARE MODE",
		"CALL p()",
		"DO SLEEP(5)",
		"HANDLER t OPEN",
		"PREPARE s FROM 'DELETE FROM t'",
		"SELECT @a := 1",
		"SELECT NEXTVAL(s)",
		"LOCK TABLES t WRITE",
		"SAVEPOINT x",
		"XA START 'x'",
		"WITH x AS (SELECT 1) DELETE FROM t",
	} {
		refused("reader", readSecret, q, http.StatusForbidden)
	}
	// Two statements, or one that the lexer reads differently with and
	// without NO_BACKSLASH_ESCAPES, never run.
	refused("reader", readSecret, "SELECT 1; DELETE FROM t", http.StatusBadRequest)
	refused("reader", readSecret, `SELECT 'a\' ; DELETE FROM t -- '`, http.StatusBadRequest)
	refused("writer", writeSecret, "SELECT 1; DELETE FROM t", http.StatusBadRequest)
	// A write token: no files, no other sessions, no server, no
	// transaction control behind the gateway.
	for _, q := range []string{
		"SELECT * FROM t INTO DUMPFILE '/tmp/forge-ps-dump'",
		"LOAD DATA LOCAL INFILE '/etc/passwd' INTO TABLE t",
		"KILL 1",
		"SHUTDOWN",
		"SET autocommit = 0",
		"SET SESSION TRANSACTION ISOLATION LEVEL READ UNCOMMITTED",
		"XA START 'x'",
		"COMMIT AND CHAIN",
	} {
		want := http.StatusForbidden
		if q == "COMMIT AND CHAIN" {
			want = http.StatusBadRequest
		}
		refused("writer", writeSecret, q, want)
	}
	// A read token's transaction is read-only, whatever it asks.
	st, out := psExec(t, url, "reader", readSecret, "START TRANSACTION READ WRITE", nil)
	if st != 200 || psError(out) != "" {
		t.Fatalf("reader BEGIN: %d %v", st, out)
	}
	sess := out["session"]
	if st, out := psExec(t, url, "reader", readSecret, "UPDATE t SET v = 'x'", sess); st != http.StatusForbidden {
		t.Errorf("reader UPDATE in a transaction: %d %v", st, out)
	}
	// Another token cannot use the session, and a forged one is refused
	// (not run in autocommit).
	if st, out := psExec(t, url, "writer", writeSecret, "DELETE FROM t", sess); st != 200 || !strings.HasPrefix(psError(out), "ABORTED") {
		t.Errorf("writer on the reader's session: %d %v", st, out)
	}
	forged := map[string]any{"signature": "00112233445566778899aabbccddeeff", "vitessSession": map[string]any{"inTransaction": true}}
	if st, out := psExec(t, url, "writer", writeSecret, "DELETE FROM t", forged); st != 200 || !strings.HasPrefix(psError(out), "ABORTED") {
		t.Errorf("a forged session: %d %v", st, out)
	}
	psExec(t, url, "reader", readSecret, "ROLLBACK", sess)
	healthy("sessions")
	// A forged session variable is dropped, never written into SQL.
	bad := map[string]any{"signature": "", "vitessSession": map[string]any{"inTransaction": false,
		"systemVariables": map[string]any{"sql_mode": "'; DELETE FROM t; -- ", "time_zone": "+00:00'; DELETE FROM t; --"}}}
	if st, out := psExec(t, url, "writer", writeSecret, "SELECT @@sql_mode AS m, @@time_zone AS z", bad); st != 200 || psError(out) != "" {
		t.Errorf("forged settings: %d %v", st, out)
	}
	refused("writer", writeSecret, "SET sql_mode = 'ANSI'', time_zone = ''SYSTEM'", http.StatusOK)
	healthy("settings")
	// Session state a write token sets does not reach the next request
	// on a pooled connection.
	psExec(t, url, "writer", writeSecret, "SET @leak = 42", nil)
	psExec(t, url, "writer", writeSecret, "CREATE TEMPORARY TABLE tmp (n INT)", nil)
	for i := 0; i < 10; i++ {
		_, out := psExec(t, url, "writer", writeSecret, "SELECT @leak AS v", nil)
		if rows := out["result"].(map[string]any)["rows"].([]any); rows[0].(map[string]any)["lengths"].([]any)[0] != "-1" {
			t.Fatalf("a user variable outlived its request: %v", out)
		}
		if _, out := psExec(t, url, "writer", writeSecret, "SELECT COUNT(*) FROM tmp", nil); !strings.Contains(psError(out), "1146") {
			t.Fatalf("a temporary table outlived its request: %v", out)
		}
	}
	healthy("session state")
	// The privileges the gateway's users lack are the database's refusal.
	if _, out := psExec(t, url, "writer", writeSecret, "GRANT ALL ON *.* TO CURRENT_USER()", nil); psError(out) == "" {
		t.Errorf("GRANT: %v", out)
	}
	if _, out := psExec(t, url, "reader", readSecret, "SELECT * FROM mysql.user", nil); psError(out) == "" {
		t.Errorf("reading mysql.user: %v", out)
	}
	// A body over the limit is refused unread.
	big := `{"query":"SELECT '` + strings.Repeat("x", 11<<20) + `'","session":null}`
	if st, _ := psCall(t, url, "/psdb.v1alpha1.Database/Execute", "writer", writeSecret, big); st != http.StatusRequestEntityTooLarge {
		t.Errorf("a large body: %d", st)
	}
	// Wrong credentials: a wrong name with the right secret, no auth.
	if st, _ := psExec(t, url, "reader", writeSecret, "SELECT 1", nil); st != http.StatusUnauthorized {
		t.Errorf("a secret under another token's name: %d", st)
	}
	res, err := http.Post(url+"/psdb.v1alpha1.Database/Execute", "application/json", bytes.NewReader([]byte(`{"query":"SELECT 1"}`)))
	if err != nil || res.StatusCode != http.StatusUnauthorized {
		t.Errorf("no credentials: %v %v", res, err)
	}
	res.Body.Close()
	healthy("limits")
}

// TestPlanetScaleShares: a token holds at most its share of connections,
// open transactions included, and waits boundedly for more; the other
// tokens still run.
func TestPlanetScaleShares(t *testing.T) {
	_, _, url := psServer(t, gateway.Config{MaxMySQLPerToken: 2, AcquireTimeout: 300 * time.Millisecond})
	var sessions []any
	for i := 0; i < 2; i++ {
		st, out := psExec(t, url, "writer", writeSecret, "BEGIN", nil)
		if st != 200 || psError(out) != "" {
			t.Fatalf("BEGIN %d: %d %v", i, st, out)
		}
		sessions = append(sessions, out["session"])
	}
	if st, out := psExec(t, url, "writer", writeSecret, "BEGIN", nil); st != http.StatusTooManyRequests || !strings.HasPrefix(psError(out), "RESOURCE_EXHAUSTED") {
		t.Errorf("a third transaction: %d %v", st, out)
	}
	if st, out := psExec(t, url, "other", otherSecret, "SELECT 1", nil); st != 200 || psError(out) != "" {
		t.Errorf("another token: %d %v", st, out)
	}
	for _, s := range sessions {
		if st, out := psExec(t, url, "writer", writeSecret, "ROLLBACK", s); st != 200 || psError(out) != "" {
			t.Errorf("ROLLBACK: %d %v", st, out)
		}
	}
	if st, out := psExec(t, url, "writer", writeSecret, "SELECT 1", nil); st != 200 || psError(out) != "" {
		t.Errorf("after the rollbacks: %d %v", st, out)
	}
}

// TestPlanetScaleAllowList: in allow-list mode raw SQL is refused, named
// statements run (through the guard), and the transaction and settings
// statements the protocol needs stay allowed.
func TestPlanetScaleAllowList(t *testing.T) {
	st, err := gateway.ParseStatements([]byte("-- name: count\nSELECT COUNT(*) AS n FROM t\n-- name: add\nINSERT INTO t VALUES (9, 'z')\n"))
	if err != nil {
		t.Fatal(err)
	}
	d, _, url := psServer(t, gateway.Config{Statements: st})
	d.mustExec(t, "CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(10))")
	if code, out := psExec(t, url, "writer", writeSecret, "SELECT 1", nil); code != http.StatusForbidden || !strings.HasPrefix(psError(out), "PERMISSION_DENIED") {
		t.Errorf("raw SQL: %d %v", code, out)
	}
	if code, out := psExec(t, url, "writer", writeSecret, "SET SESSION sql_mode = 'ANSI_QUOTES', time_zone = '+00:00'", nil); code != 200 || psError(out) != "" {
		t.Errorf("settings: %d %v", code, out)
	}
	_, out := psExec(t, url, "writer", writeSecret, "BEGIN", nil)
	sess := out["session"]
	for _, q := range []string{"@add", "@count", "COMMIT"} {
		if code, out := psExec(t, url, "writer", writeSecret, q, sess); code != 200 || psError(out) != "" {
			t.Fatalf("%s: %d %v", q, code, out)
		} else {
			sess = out["session"]
		}
	}
	if code, out := psExec(t, url, "reader", readSecret, "@add", nil); code != http.StatusForbidden {
		t.Errorf("a read token's named write: %d %v", code, out)
	}
	var n int
	if err := d.admin.QueryRow("SELECT COUNT(*) FROM t").Scan(&n); err != nil || n != 1 {
		t.Errorf("%d rows, %v", n, err)
	}
}

// TestOpenMySQLRefuses: the gateway does not serve as a user with
// server-wide privileges, nor read tokens as a user that can write.
func TestOpenMySQLRefuses(t *testing.T) {
	d := newPSDB(t)
	ctx := context.Background()
	var ge *gateway.GrantError
	if _, err := gateway.OpenMySQL(ctx, mysqlDSN(t), gateway.MySQLOptions{}); !errors.As(err, &ge) {
		t.Errorf("the administrator as --db: %v, want a *GrantError", err)
	}
	db, err := gateway.OpenMySQL(ctx, mysqlDSN(t), gateway.MySQLOptions{DangerouslyAllowSuperuser: true})
	if err != nil {
		t.Errorf("the administrator with DangerouslyAllowSuperuser: %v", err)
	} else {
		_ = db.Close()
	}
	if _, err := gateway.OpenMySQL(ctx, d.write.FormatDSN(), gateway.MySQLOptions{ReadOnly: true}); !errors.As(err, &ge) {
		t.Errorf("a user that can write as --read-dsn: %v, want a *GrantError", err)
	}
	d.mustExec(t, "GRANT FILE ON *.* TO '"+d.write.User+"'@'%'")
	if _, err := gateway.OpenMySQL(ctx, d.write.FormatDSN(), gateway.MySQLOptions{}); !errors.As(err, &ge) || !strings.Contains(ge.Error(), "FILE") {
		t.Errorf("a user with FILE: %v, want a *GrantError", err)
	}
}
