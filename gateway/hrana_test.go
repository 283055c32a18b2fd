package gateway_test

import (
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/forge-orm/forge/gateway"
	"github.com/forge-orm/forge/wire/hrana"
)

func i32(v int32) *int32 { return &v }

// TestHranaExecute covers execute on SQLite: values of every kind both
// ways, counts, last insert id, columns, named and positional arguments,
// and statement errors with SQLite's codes.
func TestHranaExecute(t *testing.T) {
	c := &hc{t: t, url: sqliteServer(t, gateway.Config{}), token: writeSecret}
	c.mustExec(`CREATE TABLE t (id INTEGER PRIMARY KEY, s TEXT UNIQUE, f REAL, b BLOB, n INT, d DATETIME)`)

	r := c.mustExec(`INSERT INTO t (s, f, b, n) VALUES (?, ?, ?, ?), ('two', 2.5, x'', NULL)`,
		hrana.TextValue("it's \"quoted\" — ünïcödé 🎉\x00"), hrana.FloatValue(-1.5e-300), hrana.BlobValue([]byte{0, 1, 255}), hrana.IntegerValue(math.MaxInt64))
	if r.AffectedRowCount != 2 || r.LastInsertRowID == nil || *r.LastInsertRowID != 2 || len(r.Cols) != 0 {
		t.Errorf("insert: %+v", r)
	}
	r = c.mustExec(`SELECT id, s, f, b, n, typeof(n) AS tn, NULL AS z FROM t ORDER BY id`)
	if len(r.Cols) != 7 || *r.Cols[0].Name != "id" || r.Cols[0].Decltype == nil || *r.Cols[0].Decltype != "INTEGER" || r.Cols[6].Decltype != nil {
		t.Errorf("cols: %s", jsonOf(r.Cols))
	}
	want := [][]hrana.Value{
		{hrana.IntegerValue(1), hrana.TextValue("it's \"quoted\" — ünïcödé 🎉\x00"), hrana.FloatValue(-1.5e-300), hrana.BlobValue([]byte{0, 1, 255}), hrana.IntegerValue(math.MaxInt64), hrana.TextValue("integer"), {}},
		{hrana.IntegerValue(2), hrana.TextValue("two"), hrana.FloatValue(2.5), hrana.BlobValue([]byte{}), {}, hrana.TextValue("null"), {}},
	}
	if jsonOf(r.Rows) != jsonOf(want) {
		t.Errorf("rows:\n got %s\nwant %s", jsonOf(r.Rows), jsonOf(want))
	}
	if r.AffectedRowCount != 0 || r.LastInsertRowID != nil {
		t.Errorf("a SELECT reports changes: %+v", r)
	}
	// int64 limits and floats exactly.
	for _, v := range []hrana.Value{hrana.IntegerValue(math.MinInt64), hrana.IntegerValue(1<<53 + 1), hrana.FloatValue(math.MaxFloat64),
		hrana.FloatValue(math.SmallestNonzeroFloat64), hrana.FloatValue(0.1), hrana.TextValue(""), hrana.BlobValue([]byte{}), {}} {
		if got := c.scalar(`SELECT ?`, v); jsonOf(got) != jsonOf(v) {
			t.Errorf("SELECT %s read back as %s", jsonOf(v), jsonOf(got))
		}
	}
	// Named arguments: names without a prefix match :a, @a and $a; with one, only it.
	resp := c.must(nil, hrana.ExecuteRequest(hrana.Stmt{SQL: ptr(`SELECT :a, @b, $c, :a`), NamedArgs: []hrana.NamedArg{
		{Name: "a", Value: hrana.IntegerValue(1)}, {Name: "@b", Value: hrana.TextValue("x")}, {Name: "c", Value: hrana.FloatValue(1.5)}}}), hrana.CloseRequest())
	if got := jsonOf(resp.Results[0].Response.Execute.Rows); got != jsonOf([][]hrana.Value{{hrana.IntegerValue(1), hrana.TextValue("x"), hrana.FloatValue(1.5), hrana.IntegerValue(1)}}) {
		t.Errorf("named: %s", got)
	}
	// As in sqld: positional arguments bind to ? and ?NNN, not to names;
	// every parameter needs a value (TestHranaArgsLikeSqld has the rest).
	if got := jsonOf(c.mustExec(`SELECT ?, ?3, ?1`, hrana.IntegerValue(1), hrana.IntegerValue(2), hrana.IntegerValue(3)).Rows); got != jsonOf([][]hrana.Value{{hrana.IntegerValue(1), hrana.IntegerValue(3), hrana.IntegerValue(1)}}) {
		t.Errorf("?NNN: %s", got)
	}
	for _, sql := range []string{`SELECT :a, ?`, `SELECT ?`} {
		if _, e := c.exec(sql, hrana.IntegerValue(1)); sql == `SELECT :a, ?` && (e == nil || e.Code != "ARGS_INVALID") {
			t.Errorf("%s with one positional argument: %v", sql, e)
		}
		if _, e := c.exec(sql); e == nil || e.Code != "ARGS_INVALID" {
			t.Errorf("%s without arguments: %v", sql, e)
		}
	}
	// A DATETIME column's text comes back as text.
	c.mustExec(`UPDATE t SET d = '2024-01-02 03:04:05' WHERE id = 1`)
	if got := c.scalar(`SELECT d FROM t WHERE id = 1`); got.Kind != hrana.Text || got.Text != "2024-01-02 03:04:05" {
		t.Errorf("DATETIME: %s", jsonOf(got))
	}
	// UPDATE and DELETE counts; a statement that changes nothing reports 0.
	if r := c.mustExec(`UPDATE t SET n = 7`); r.AffectedRowCount != 2 {
		t.Errorf("update: %+v", r)
	}
	if r := c.mustExec(`UPDATE t SET n = 8 WHERE id = 99`); r.AffectedRowCount != 0 || r.LastInsertRowID != nil {
		t.Errorf("update of nothing: %+v", r)
	}
	if r := c.mustExec(`INSERT INTO t (s) VALUES ('r') RETURNING id, s`); r.AffectedRowCount != 1 || jsonOf(r.Rows) != jsonOf([][]hrana.Value{{hrana.IntegerValue(3), hrana.TextValue("r")}}) {
		t.Errorf("RETURNING: %+v", r)
	}
	// want_rows false: no rows, the write still happens.
	resp = c.must(nil, hrana.ExecuteRequest(hrana.NewStmt(`DELETE FROM t WHERE id = 3 RETURNING id`, nil, false)), hrana.CloseRequest())
	if r := resp.Results[0].Response.Execute; len(r.Rows) != 0 || r.AffectedRowCount != 1 {
		t.Errorf("want_rows false: %+v", r)
	}

	// Errors.
	for _, tc := range []struct {
		sql  string
		args []hrana.Value
		code string
		msg  string
	}{
		{`INSERT INTO t (s) VALUES ('two')`, nil, "SQLITE_CONSTRAINT", "UNIQUE constraint failed: t.s"},
		{`SELEC 1`, nil, "SQLITE_ERROR", `near "SELEC": syntax error`},
		{`SELECT * FROM nope`, nil, "SQLITE_ERROR", "no such table: nope"},
		{`SELECT 1; SELECT 2`, nil, "SQL_MANY_STATEMENTS", "more than one statement"},
		{` -- nothing`, nil, "SQL_NO_STATEMENT", "does not contain any statement"},
		{`SELECT ?`, []hrana.Value{hrana.IntegerValue(1), hrana.IntegerValue(2)}, "ARGS_INVALID", "too many parameters, expected 1 found 2"},
	} {
		_, e := c.exec(tc.sql, tc.args...)
		if e == nil || e.Code != tc.code || !strings.Contains(e.Message, tc.msg) {
			t.Errorf("%s: %v, want %s %q", tc.sql, e, tc.code, tc.msg)
		}
	}
	resp = c.must(nil, hrana.ExecuteRequest(hrana.Stmt{SQL: ptr(`SELECT :a`), Args: []hrana.Value{hrana.IntegerValue(1)},
		NamedArgs: []hrana.NamedArg{{Name: "a", Value: hrana.IntegerValue(1)}}}), hrana.CloseRequest())
	if e := resp.Results[0].Error; e == nil || e.Code != "ARGS_BOTH_POSITIONAL_AND_NAMED" {
		t.Errorf("both kinds of arguments: %+v", resp.Results[0])
	}
	// A semicolon in a string or a trigger body is not the end of a statement.
	c.mustExec(`CREATE TRIGGER tr AFTER INSERT ON t BEGIN UPDATE t SET s = s || ';' WHERE id = new.id; END`)
	c.mustExec(`INSERT INTO t (s) VALUES ('semi;colon')`)
	if got := c.scalar(`SELECT s FROM t WHERE s LIKE 'semi%'`); got.Text != "semi;colon;" {
		t.Errorf("trigger: %s", jsonOf(got))
	}
	// Files cannot be attached or written (the authorizer refuses ATTACH,
	// which VACUUM INTO runs), and the error does not repeat the path.
	for _, sql := range []string{`ATTACH '` + t.TempDir() + `/x.db' AS x`, `VACUUM INTO '` + t.TempDir() + `/copy.db'`} {
		if _, e := c.exec(sql); e == nil || e.Code != "SQLITE_AUTH" || !strings.Contains(e.Message, "not allowed through the gateway") || strings.Contains(e.Message, "/tmp") {
			t.Errorf("%s: %v", sql, e)
		}
	}
}

func ptr[T any](v T) *T { return &v }

// TestHranaStreams covers what a stream keeps between requests: its
// transaction on one connection, stored SQL, batons that rotate and cannot
// be forged or reused, and expiry.
func TestHranaStreams(t *testing.T) {
	url := sqliteServer(t, gateway.Config{StreamIdle: 300 * time.Millisecond})
	c := &hc{t: t, url: url, token: writeSecret}
	c.mustExec(`CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)`)

	// An interactive transaction across three requests, as @libsql/client's
	// transaction() sends it.
	resp := c.must(nil, hrana.StoreSQLRequest(0, `INSERT INTO t (v) VALUES (?)`),
		hrana.BatchRequest(hrana.BatchStep{Stmt: hrana.NewStmt("BEGIN IMMEDIATE", nil, false)},
			hrana.BatchStep{Condition: ptr(hrana.CondOK(0)), Stmt: hrana.Stmt{SQLID: i32(0), Args: []hrana.Value{hrana.TextValue("a")}}}),
		hrana.GetAutocommitRequest())
	if resp.Baton == nil || resp.BaseURL != nil {
		t.Fatalf("no baton: %s", jsonOf(resp))
	}
	if b := resp.Results[1].Response.Batch; b.StepErrors[0] != nil || b.StepErrors[1] != nil || b.StepResults[1].AffectedRowCount != 1 {
		t.Fatalf("batch: %s", jsonOf(b))
	}
	if resp.Results[2].Response.IsAutocommit {
		t.Error("inside BEGIN: autocommit")
	}
	b1 := *resp.Baton
	// Not visible from another stream yet (WAL: readers see the last commit).
	if n := c.scalar(`SELECT count(*) FROM t`); n.Int != 0 {
		t.Errorf("uncommitted row visible: %d", n.Int)
	}
	resp = c.must(&b1, hrana.ExecuteRequest(hrana.Stmt{SQLID: i32(0), Args: []hrana.Value{hrana.TextValue("b")}}))
	if resp.Baton == nil || *resp.Baton == b1 {
		t.Fatalf("the baton did not rotate: %v", resp.Baton)
	}
	b2 := *resp.Baton
	// The old baton is refused; a forged one too; another token's too.
	for _, tc := range []struct {
		baton, token, code string
	}{
		{b1, writeSecret, "BATON_REUSED"},
		{forged(b2), writeSecret, "BATON_INVALID"},
		{"not-a-baton", writeSecret, "BATON_INVALID"},
		{b2, otherSecret, "BATON_INVALID"},
	} {
		_, r := (&hc{t: t, url: url, token: tc.token}).post(&tc.baton, hrana.ExecuteRequest(hrana.NewStmt(`DELETE FROM t`, nil, false)))
		if r.status != http.StatusBadRequest {
			t.Fatalf("baton %q: status %d %s", tc.baton, r.status, r.body)
		}
		if _, code := protoError(t, r); code != tc.code {
			t.Errorf("baton %q: code %s, want %s", tc.baton, code, tc.code)
		}
	}
	resp = c.must(&b2, hrana.ExecuteRequest(hrana.NewStmt("COMMIT", nil, false)), hrana.GetAutocommitRequest(), hrana.CloseRequest(),
		hrana.ExecuteRequest(hrana.NewStmt("SELECT 1", nil, true)))
	if resp.Baton != nil || !resp.Results[1].Response.IsAutocommit || resp.Results[3].Error == nil || resp.Results[3].Error.Code != "STREAM_CLOSED" {
		t.Errorf("commit and close: %s", jsonOf(resp))
	}
	if n := c.scalar(`SELECT count(*) FROM t`); n.Int != 2 {
		t.Errorf("%d rows after commit", n.Int)
	}
	// A closed stream's baton is refused.
	if _, r := c.post(&b2, hrana.CloseRequest()); r.status != http.StatusBadRequest {
		t.Errorf("closed stream: %d %s", r.status, r.body)
	}

	// An idle stream expires: its transaction is rolled back and its write
	// lock released, and its baton answers STREAM_EXPIRED.
	resp = c.must(nil, hrana.BatchRequest(hrana.BatchStep{Stmt: hrana.NewStmt("BEGIN IMMEDIATE", nil, false)},
		hrana.BatchStep{Condition: ptr(hrana.CondOK(0)), Stmt: hrana.NewStmt(`INSERT INTO t (v) VALUES ('lost')`, nil, false)}))
	if resp.Baton == nil {
		t.Fatal("no baton")
	}
	time.Sleep(900 * time.Millisecond)
	_, r := c.post(resp.Baton, hrana.ExecuteRequest(hrana.NewStmt("COMMIT", nil, false)))
	if _, code := protoError(t, r); r.status != http.StatusBadRequest || code != "STREAM_EXPIRED" {
		t.Errorf("expired stream: %d %s", r.status, r.body)
	}
	start := time.Now()
	if _, e := c.exec(`INSERT INTO t (v) VALUES ('after')`); e != nil || time.Since(start) > 2*time.Second {
		t.Errorf("write after expiry: %v (%v)", e, time.Since(start))
	}
	if n := c.scalar(`SELECT count(*) FROM t WHERE v = 'lost'`); n.Int != 0 {
		t.Error("an expired stream's transaction was committed")
	}
	// A pipeline without close keeps its stream: sequence, describe and
	// close_sql work on it.
	resp = c.must(nil, hrana.SequenceRequest(`CREATE TABLE u (a INT); INSERT INTO u VALUES (1); INSERT INTO u VALUES (2);`),
		hrana.DescribeRequest(`SELECT a, ? AS p, :named FROM u WHERE a > ?3`),
		hrana.DescribeRequest(`INSERT INTO u VALUES (1)`), hrana.DescribeRequest(`EXPLAIN SELECT 1`),
		hrana.StoreSQLRequest(5, `SELECT 1`), hrana.CloseSQLRequest(5), hrana.ExecuteRequest(hrana.Stmt{SQLID: i32(5)}),
		hrana.SequenceRequest(`INSERT INTO u VALUES (3); SELEC; INSERT INTO u VALUES (4)`))
	for i, want := range []string{"", "", "", "", "", "", "SQL_NOT_FOUND", "SQLITE_ERROR"} {
		if e := resp.Results[i].Error; (e == nil) != (want == "") || e != nil && e.Code != want {
			t.Errorf("result %d: %s, want error %q", i, jsonOf(resp.Results[i]), want)
		}
	}
	d := resp.Results[1].Response.Describe
	if jsonOf(d) != `{"params":[{"name":null},{"name":":named"},{"name":"?3"}],"cols":[{"name":"a","decltype":"INT"},{"name":"p","decltype":null},{"name":":named","decltype":null}],"is_explain":false,"is_readonly":true}` {
		t.Errorf("describe: %s", jsonOf(d))
	}
	if d := resp.Results[2].Response.Describe; d.IsReadonly || d.IsExplain {
		t.Errorf("describe INSERT: %s", jsonOf(d))
	}
	if d := resp.Results[3].Response.Describe; !d.IsReadonly || !d.IsExplain {
		t.Errorf("describe EXPLAIN: %s", jsonOf(d))
	}
	resp = c.must(resp.Baton, hrana.ExecuteRequest(hrana.NewStmt(`SELECT group_concat(a) FROM u`, nil, true)), hrana.CloseRequest())
	if got := resp.Results[0].Response.Execute.Rows[0][0].Text; got != "1,2,3" {
		t.Errorf("sequence stopped at its error: %q", got)
	}
}

// TestHranaBatch covers batches with conditions, as the libSQL clients
// send them: atomic when a step fails, and conditions of every kind.
func TestHranaBatch(t *testing.T) {
	c := &hc{t: t, url: sqliteServer(t, gateway.Config{}), token: writeSecret}
	c.mustExec(`CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT UNIQUE)`)
	atomic := func(stmts ...string) *hrana.BatchResult {
		steps := []hrana.BatchStep{{Stmt: hrana.NewStmt("BEGIN IMMEDIATE", nil, false)}}
		for i, s := range stmts {
			steps = append(steps, hrana.BatchStep{Condition: ptr(hrana.CondOK(uint32(i))), Stmt: hrana.NewStmt(s, nil, true)})
		}
		n := uint32(len(stmts))
		steps = append(steps, hrana.BatchStep{Condition: ptr(hrana.CondOK(n)), Stmt: hrana.NewStmt("COMMIT", nil, false)},
			hrana.BatchStep{Condition: ptr(hrana.CondNot(hrana.CondOK(n + 1))), Stmt: hrana.NewStmt("ROLLBACK", nil, false)})
		resp := c.must(nil, hrana.BatchRequest(steps...), hrana.CloseRequest())
		if resp.Results[0].Error != nil {
			t.Fatalf("batch: %v", resp.Results[0].Error)
		}
		return resp.Results[0].Response.Batch
	}
	b := atomic(`INSERT INTO t (v) VALUES ('a')`, `INSERT INTO t (v) VALUES ('b') RETURNING id`)
	if b.StepErrors[1] != nil || b.StepErrors[2] != nil || b.StepResults[3] == nil || b.StepResults[4] != nil || jsonOf(b.StepResults[2].Rows) != `[[{"type":"integer","value":"2"}]]` {
		t.Errorf("committed batch: %s", jsonOf(b))
	}
	b = atomic(`INSERT INTO t (v) VALUES ('c')`, `INSERT INTO t (v) VALUES ('a')`, `INSERT INTO t (v) VALUES ('d')`)
	if b.StepErrors[2] == nil || b.StepErrors[2].Code != "SQLITE_CONSTRAINT" || b.StepResults[3] != nil || b.StepResults[4] != nil || b.StepResults[5] == nil {
		t.Errorf("failed batch: %s", jsonOf(b))
	}
	if got := c.scalar(`SELECT group_concat(v) FROM t`); got.Text != "a,b" {
		t.Errorf("after a failed batch: %q", got.Text)
	}
	// and, or, not, error, is_autocommit.
	resp := c.must(nil, hrana.BatchRequest(
		hrana.BatchStep{Stmt: hrana.NewStmt(`SELECT 1`, nil, true)},
		hrana.BatchStep{Stmt: hrana.NewStmt(`SELEC`, nil, true)},
		hrana.BatchStep{Condition: ptr(hrana.CondAnd(hrana.CondOK(0), hrana.CondError(1))), Stmt: hrana.NewStmt(`SELECT 'and'`, nil, true)},
		hrana.BatchStep{Condition: ptr(hrana.CondOr(hrana.CondOK(1), hrana.CondNot(hrana.CondOK(0)))), Stmt: hrana.NewStmt(`SELECT 'or'`, nil, true)},
		hrana.BatchStep{Condition: ptr(hrana.CondIsAutocommit()), Stmt: hrana.NewStmt(`SELECT 'autocommit'`, nil, true)},
		hrana.BatchStep{Condition: ptr(hrana.CondAnd()), Stmt: hrana.NewStmt(`SELECT 'empty and'`, nil, true)},
		hrana.BatchStep{Condition: ptr(hrana.CondOr()), Stmt: hrana.NewStmt(`SELECT 'empty or'`, nil, true)},
	), hrana.BatchRequest(hrana.BatchStep{Condition: ptr(hrana.CondOK(0)), Stmt: hrana.NewStmt(`SELECT 1`, nil, true)}), hrana.CloseRequest())
	b = resp.Results[0].Response.Batch
	ran := []bool{true, false, true, false, true, true, false}
	for i, want := range ran {
		if got := b.StepResults[i] != nil; got != want {
			t.Errorf("step %d ran: %v, want %v (%s)", i, got, want, jsonOf(b))
		}
	}
	if e := resp.Results[1].Error; e == nil || e.Code != "BATCH_COND_INVALID" {
		t.Errorf("a condition on a later step: %s", jsonOf(resp.Results[1]))
	}
}

// forged returns baton with its last two characters changed (never to
// themselves: a baton may end in "AA" already).
func forged(baton string) string {
	tail := "AA"
	if strings.HasSuffix(baton, tail) {
		tail = "BB"
	}
	return baton[:len(baton)-2] + tail
}
