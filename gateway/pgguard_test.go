package gateway

import (
	"strings"
	"testing"
)

// TestGuardPostgres checks the statement guard's reading of SQL, without
// a database (the hostile tests run it against PostgreSQL).
func TestGuardPostgres(t *testing.T) {
	for _, tc := range []struct {
		sql         string
		read, tx    bool
		refused     bool
		bad         bool // a 400 refusal
		wantInWhy   string
		description string
	}{
		{sql: "SELECT 1", read: true},
		{sql: "(SELECT 1) UNION (SELECT 2)", read: true},
		{sql: "WITH x AS (SELECT 1) SELECT * FROM x", read: true, tx: true},
		{sql: "select 'commit; set x = 1; pg_cancel_backend(1)'", read: true, description: "a string is data"},
		{sql: "SELECT $$ ; COMMIT $$, $tag$ $$ ; SET x $tag$", read: true},
		{sql: `SELECT 1 AS "commit"; `, read: true},
		{sql: "SELECT a$b$c FROM t", read: true, description: "$ inside an identifier is no dollar quote"},
		{sql: "DELETE FROM t", read: true, description: "left to PostgreSQL's read-only transaction (25006)"},
		{sql: "SELECT lower(v), lo_price FROM t", read: true},
		{sql: "COMMIT", read: true, refused: true, wantInWhy: "COMMIT"},
		{sql: "  /* a /* nested */ comment */ -- x\n ;; commit AND CHAIN", read: true, refused: true},
		{sql: "(COMMIT)", read: true, refused: true},
		{sql: "SELECT 1; SET ROLE postgres", read: true, refused: true, wantInWhy: "SET"},
		{sql: "SELECT 1 /* ; */ ; RESET ALL", read: true, refused: true},
		{sql: `SELECT 1; "set" x`, read: true, refused: true, description: "a quoted first word is not a query"},
		{sql: `SELECT U&"\0073et_config"('a', 'b', false)`, read: true, refused: true, wantInWhy: "set_config"},
		{sql: `SELECT U&"!0073et_config" UESCAPE '!' ('a', 'b', false)`, read: true, refused: true},
		{sql: `SELECT U&"\+000073et_config"('a', 'b', false)`, read: true, refused: true},
		{sql: `SELECT "pg_catalog"."pg_advisory_lock"(1)`, read: true, refused: true},
		{sql: `SELECT 'x\'', pg_cancel_backend(0) --'`, read: true, refused: true, description: "code with standard_conforming_strings off"},
		{sql: `SELECT e'\\', pg_cancel_backend(0) --'`, read: true, refused: true},
		{sql: "SELECT 'a'\n  'b', set_config('a', 'b', false)", read: true, refused: true},
		{sql: "COPY t TO STDOUT", refused: true, bad: true},
		{sql: ";COPY t TO PROGRAM 'id'", refused: true, bad: true},
		{sql: "DO $$ BEGIN EXECUTE 'CO' || 'PY t TO PROGRAM ''id'''; END $$", description: "assembled at run time: the role check's job"},
		{sql: "DO $$ BEGIN EXECUTE 'COPY t TO PROGRAM ''id'''; END $$", refused: true, wantInWhy: "COPY"},
		{sql: "DO $$ BEGIN PERFORM pg_terminate_backend(1); END $$", refused: true},
		{sql: "DO 'BEGIN EXECUTE ''CO'\n -- a comment\n  'PY t TO PROGRAM id''; END'", refused: true, wantInWhy: "COPY",
			description: "string continuation across a comment"},
		{sql: "DO $$ BEGIN INSERT INTO t VALUES (1); END $$", tx: true, description: "a write token's DO block in a transaction"},
		{sql: "SELECT pg_advisory_lock(1)", description: "write tokens may use advisory locks (reset after the request)"},
		{sql: "SELECT pg_terminate_backend(1)", refused: true},
		{sql: "PREPARE TRANSACTION 'x'", refused: true, wantInWhy: "two-phase"},
		{sql: "COMMIT AND CHAIN", tx: true, refused: true, bad: true, wantInWhy: "ended the transaction"},
		{sql: "ROLLBACK WORK TO SAVEPOINT s", tx: true},
		{sql: "ROLLBACK", tx: true, refused: true, bad: true},
		{sql: "BEGIN", description: "a write token's lone BEGIN is rolled back by the session reset"},
		{sql: "SELECT 'unterminated", read: true, description: "left to PostgreSQL's lexer, which refuses it"},
	} {
		why, bad := guardPostgres(tc.sql, tc.read, tc.tx)
		if (why != "") != tc.refused || bad != tc.bad || !strings.Contains(why, tc.wantInWhy) {
			t.Errorf("%q (read %v, tx %v; %s): refused %q (bad request %v)", tc.sql, tc.read, tc.tx, tc.description, why, bad)
		}
	}
}

// TestJSONArraysWithin checks the count of array elements made before a
// Neon body is decoded.
func TestJSONArraysWithin(t *testing.T) {
	for _, tc := range []struct {
		body  string
		limit int
		ok    bool
	}{
		{`{"query":"SELECT 1","params":[]}`, 0, true},
		{`{"query":"SELECT 1","params":[1]}`, 0, false},
		{`{"query":"SELECT $1, $2","params":[1,"a,b,[c]"]}`, 2, true},
		{`{"query":"SELECT $1, $2","params":[1,"a\"],[,,"]}`, 2, true},
		{`{"query":"SELECT $1","params":[[1,2],[3]]}`, 5, true},
		{`{"query":"SELECT $1","params":[[1,2],[3]]}`, 4, false},
		{`{"queries":[{"query":"SELECT 1","params":[1,2]},{"query":"SELECT 1","params":[3]}]}`, 5, true},
		{`{"queries":[{"query":"SELECT 1","params":[1,2]},{"query":"SELECT 1","params":[3]}]}`, 4, false},
		{`[` + strings.Repeat("[", 20000), 1 << 20, false},
	} {
		if _, ok := jsonArraysWithin([]byte(tc.body), tc.limit); ok != tc.ok {
			t.Errorf("%.60s (limit %d): %v", tc.body, tc.limit, ok)
		}
	}
}

// TestMetricCode checks that error-code labels come from a bounded set.
func TestMetricCode(t *testing.T) {
	for code, want := range map[string]string{
		"42601": "42601", "23505": "23505", "UNAUTHORIZED": "UNAUTHORIZED", "SQLITE_READONLY": "SQLITE_READONLY",
		"413": "413", "22Z99": "22xxx", "ZZ123": "other", "P0003": "P0xxx", "": "unknown", "SQLITE_NEW": "other",
		"attacker-chosen": "other", "999": "other",
	} {
		if got := metricCode(code); got != want {
			t.Errorf("metricCode(%q) = %q, want %q", code, got, want)
		}
	}
}
