package gateway

import "testing"

func TestGuardMySQL(t *testing.T) {
	type want struct {
		tx    myTx
		rows  bool
		taint bool
		code  string // "" accepted
	}
	cases := []struct {
		sql  string
		read bool
		want want
	}{
		{"SELECT 1", true, want{rows: true}},
		{"  (SELECT a FROM t) UNION (SELECT b FROM u);", true, want{rows: true}},
		{"select 'into ; delete' as x -- into\n", true, want{rows: true}},
		{"SELECT `into` FROM t", true, want{rows: true}},
		{"SHOW TABLES", true, want{rows: true}},
		{"begin", true, want{tx: myTxBegin}},
		{"BEGIN WORK", false, want{tx: myTxBegin}},
		{"START TRANSACTION READ ONLY", false, want{tx: myTxBeginReadOnly}},
		{"START TRANSACTION WITH CONSISTENT SNAPSHOT, READ WRITE", false, want{tx: myTxBegin}},
		{"START TRANSACTION ISOLATION LEVEL SERIALIZABLE", false, want{code: "INVALID_ARGUMENT"}},
		{"START TRANSACTION WITH CONSISTENT SNAPSHOT READ WRITE", false, want{tx: myTxBegin}},
		{"COMMIT", true, want{tx: myTxCommit}},
		{"rollback work;", true, want{tx: myTxRollback}},
		{"ROLLBACK TO SAVEPOINT a", false, want{taint: true}},
		{"ROLLBACK TO SAVEPOINT a", true, want{code: "INVALID_ARGUMENT"}},
		{"COMMIT AND CHAIN", false, want{code: "INVALID_ARGUMENT"}},
		{"BEGIN NOT ATOMIC SELECT 1; END", false, want{code: "INVALID_ARGUMENT"}},
		{"INSERT INTO t VALUES (1)", false, want{}},
		{"INSERT INTO t VALUES (1) RETURNING id", false, want{rows: true}},
		{"DELETE FROM t", true, want{code: "PERMISSION_DENIED"}},
		{"SET @x = 1", false, want{taint: true}},
		{"SELECT @x", false, want{rows: true, taint: true}},
		{"SELECT @x", true, want{code: "PERMISSION_DENIED"}},
		{"CREATE TEMPORARY TABLE x (a INT)", false, want{taint: true}},
		{"SELECT GET_LOCK('a', 1)", false, want{rows: true, taint: true}},
		{"SELECT `sleep`(1)", true, want{code: "PERMISSION_DENIED"}},
		{"SELECT 1 INTO OUTFILE '/tmp/x'", false, want{code: "PERMISSION_DENIED"}},
		{"LOAD DATA INFILE 'x' INTO TABLE t", false, want{code: "PERMISSION_DENIED"}},
		{"KILL QUERY 1", false, want{code: "PERMISSION_DENIED"}},
		{"SET SESSION autocommit = 0", false, want{code: "PERMISSION_DENIED"}},
		{"SET @@autocommit = 0", false, want{code: "PERMISSION_DENIED"}},
		{"SET TRANSACTION ISOLATION LEVEL SERIALIZABLE", false, want{code: "PERMISSION_DENIED"}},
		{"SELECT 1; SELECT 2", false, want{code: "INVALID_ARGUMENT"}},
		{"SELECT 1 ;  -- fine\n", false, want{rows: true}},
		{`SELECT 'a\'; DROP TABLE t; -- '`, false, want{code: "INVALID_ARGUMENT"}},
		{`SELECT 'a\\', 'b'`, true, want{rows: true}}, // the same tokens both ways
		{"SELECT 'unterminated", false, want{code: "INVALID_ARGUMENT"}},
		{"SELECT 1 /* unterminated", false, want{code: "INVALID_ARGUMENT"}},
		{"/*!50000 DELETE FROM t */", false, want{code: "INVALID_ARGUMENT"}},
		{"SELECT 1 /*!50000 , SLEEP(1) */", true, want{code: "PERMISSION_DENIED"}},
		{"SELECT 1 /*M! , 2 */", false, want{rows: true, taint: true}},
		{"SET SESSION max_statement_time = 0", false, want{code: "PERMISSION_DENIED"}},
		{"SET @@max_execution_time = 0", false, want{code: "PERMISSION_DENIED"}},
		{"SELECT ROW_COUNT()", true, want{code: "PERMISSION_DENIED"}},
		{"", false, want{code: "INVALID_ARGUMENT"}},
		{"-- only a comment", false, want{code: "INVALID_ARGUMENT"}},
	}
	for _, c := range cases {
		st, ref := guardMySQL(c.sql, c.read)
		got := want{tx: st.tx, rows: st.rows, taint: st.taint}
		if ref != nil {
			got = want{code: ref.code}
		}
		if got != c.want {
			t.Errorf("guardMySQL(%q, read=%v) = %+v (%v), want %+v", c.sql, c.read, got, ref, c.want)
		}
	}
}

func TestParseSettings(t *testing.T) {
	s, ok := parseSettings("SET SESSION sql_mode = 'ANSI_QUOTES,STRICT_ALL_TABLES', time_zone = '+00:00'")
	if !ok || !s.valid() || *s.SQLMode != "ANSI_QUOTES,STRICT_ALL_TABLES" || *s.TimeZone != "+00:00" {
		t.Fatalf("%+v %v", s, ok)
	}
	if got := s.sql(); got != "SET SESSION sql_mode = 'ANSI_QUOTES,STRICT_ALL_TABLES', time_zone = '+00:00'" {
		t.Errorf("sql() = %q", got)
	}
	for _, q := range []string{"SET sql_mode = 'a'', b'", "SET sql_mode = 'x' ; DROP TABLE t", "SET names = 'x'", "SET sql_mode = 'a\\'"} {
		if s, ok := parseSettings(q); ok && s.valid() {
			t.Errorf("parseSettings(%q) = %+v", q, s)
		}
	}
	for _, v := range []string{"x'", "+00:00'", "SYSTEM", "+0:00", "A B"} {
		if (psSettings{TimeZone: &v}).valid() {
			t.Errorf("time_zone %q is valid", v)
		}
	}
	bad := "ANSI;"
	if (psSettings{SQLMode: &bad}).valid() {
		t.Error("sql_mode with ';' is valid")
	}
}

// FuzzGuardMySQL: the guard never panics, and what it accepts for a read
// token starts with a read keyword and holds no ';' outside strings and
// comments.
func FuzzGuardMySQL(f *testing.F) {
	for _, s := range []string{"SELECT 1", "SELECT 'a\\'; DELETE", "/*! x */", "SELECT `a``b`", "BEGIN", "SELECT 1 -- x\n; DROP"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, sql string) {
		st, ref := guardMySQL(sql, true)
		if ref != nil || st.tx != myTxNone {
			return
		}
		for _, backslash := range []bool{true, false} {
			l := lexMySQL(sql, backslash)
			if l.trailing || l.at || l.execComment || l.bad != "" {
				t.Fatalf("accepted %q for a read token: %+v", sql, l)
			}
		}
	})
}
